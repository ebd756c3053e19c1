using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Milter;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// The session core's milter stages driven by a script of events: each stage
/// comes out as a <see cref="MilterEffect"/>, and the outcome the test chooses
/// goes back in. No socket is opened: the chain is never run.
/// </summary>
public sealed class MilterSessionTests : IDisposable
{
    private readonly TempDir _home = new("jsmail-milter-session");
    private readonly List<RecordingSink> _sinks = new();

    public void Dispose() => _home.Dispose();

    private SmtpSession Session()
    {
        Directory.CreateDirectory(_home["control"]);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        File.WriteAllText(_home["control/milters"], "inet:127.0.0.1:9\n");
        var settings = SmtpdSettings.Read(new ControlReader(_home.Path), _home.Path, compat: false, dataBytesFromEnv: null);
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "client.example"u8.ToArray(), null, "mx.example"u8.ToArray(), null);
        return new SmtpSession(settings, client, () =>
        {
            var sink = new RecordingSink(pid: 7);
            _sinks.Add(sink);
            return sink;
        }, () => 1_700_000_000);
    }

    private static SessionStep Say(SmtpSession s, string line) => s.Command(Encoding.ASCII.GetBytes(line + "\r"));

    private static string Take(SmtpSession s)
    {
        var text = Encoding.Latin1.GetString(s.Output.ToArray());
        s.Output.Clear();
        return text;
    }

    private static MilterRequest Asked(SmtpSession s, SessionStep step, MilterStage stage)
    {
        step.Should().Be(SessionStep.Effect);
        var request = s.PendingEffect.Should().BeOfType<MilterEffect>().Subject.Request;
        request.Stage.Should().Be(stage);
        return request;
    }

    [Fact]
    public void Each_stage_waits_for_the_milters_and_their_refusal_is_the_reply()
    {
        var s = Session();
        var connect = Asked(s, s.Greet(), MilterStage.Connect);
        Take(s).Should().BeEmpty("the greeting waits for the connect stage");
        Encoding.ASCII.GetString(connect.Argument).Should().Be("client.example");
        connect.ClientAddress.Should().Equal("192.0.2.1"u8.ToArray());
        s.MilterDone(MilterOutcome.Continue).Should().Be(SessionStep.Command);
        Take(s).Should().Be("220 mx.example ESMTP\r\n");
        Asked(s, Say(s, "HELO c.example"), MilterStage.Helo);
        Take(s).Should().BeEmpty("nothing is answered before the milters are");
        s.MilterDone(MilterOutcome.Continue).Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 mx.example\r\n");

        var mail = Asked(s, Say(s, "MAIL FROM:<s@x.example> SIZE=10"), MilterStage.Mail);
        mail.Parameters.Select(p => Encoding.ASCII.GetString(p)).Should().Equal("SIZE=10");
        Encoding.ASCII.GetString(mail.Macros["{mail_addr}"]).Should().Be("s@x.example");
        s.MilterDone(MilterOutcome.Continue);
        Take(s).Should().Be("250 2.1.0 ok\r\n");

        Asked(s, Say(s, "RCPT TO:<a@example.com>"), MilterStage.Rcpt);
        s.MilterDone(new MilterOutcome(MilterVerdict.Reject, "550 5.1.1 unknown here"u8.ToArray()));
        Take(s).Should().Be("550 5.1.1 unknown here\r\n");
        Asked(s, Say(s, "RCPT TO:<b@example.com>"), MilterStage.Rcpt);
        s.MilterDone(MilterOutcome.Continue);
        Take(s).Should().Be("250 2.1.5 ok\r\n");

        Asked(s, Say(s, "DATA"), MilterStage.Data);
        s.MilterDone(MilterOutcome.Continue).Should().Be(SessionStep.Data);
        Take(s).Should().StartWith("354 ");
        var end = s.Data("Subject: x\r\n\r\nbody\r\n.\r\n"u8, out _);
        var message = Asked(s, end, MilterStage.Message).Message!;
        _sinks.Single().Bytes.Should().BeEmpty("the message is held until the milters are done");
        message.Message.Fields.Select(f => Encoding.ASCII.GetString(f.Name)).Should().Equal("Received", "Subject");
        message.Message.Add("X-Scanned"u8.ToArray(), "yes"u8.ToArray(), leadingSpace: false);
        message.Recipients.Add("c@example.org"u8.ToArray());
        message.Edited = true;
        var commit = s.MilterDone(MilterOutcome.Continue);
        commit.Should().Be(SessionStep.Effect);
        var effect = s.PendingEffect.Should().BeOfType<CommitMessageEffect>().Subject;
        effect.Sink.Should().BeSameAs(_sinks.Single());
        effect.Envelope.Recipients.Select(r => Encoding.ASCII.GetString(r)).Should().Equal("b@example.com", "c@example.org");
        Encoding.ASCII.GetString(_sinks.Single().Bytes.ToArray()).Should().EndWith("Subject: x\nX-Scanned: yes\n\nbody\n");
        s.CommitDone(QueueResult.Ok);
        Take(s).Should().StartWith("250 2.0.0 ok 1700000000 qp 7");
    }

    /// <summary>MAIL, RCPT, DATA and a message, every stage let through, up to the milters' look at the message.</summary>
    private static void MessageToItsEnd(SmtpSession s)
    {
        foreach (var line in new[] { "MAIL FROM:<s@x>", "RCPT TO:<a@example.com>", "DATA" })
        {
            Say(s, line);
            s.MilterDone(MilterOutcome.Continue);
        }
        Take(s);
        Asked(s, s.Data("x\r\n.\r\n"u8, out _), MilterStage.Message);
    }

    [Fact]
    public void A_refused_message_is_aborted_and_a_session_that_ends_meanwhile_drops_it()
    {
        var s = Session();
        s.Greet();
        s.MilterDone(MilterOutcome.Continue);
        Say(s, "HELO c");
        s.MilterDone(MilterOutcome.Continue);
        MessageToItsEnd(s);
        s.MilterDone(MilterOutcome.Tempfail).Should().Be(SessionStep.Command);
        Take(s).Should().Be("451 4.7.1 Service unavailable - try again later\r\n");
        _sinks[0].Aborted.Should().BeTrue();
        _sinks[0].Bytes.Should().BeEmpty();

        MessageToItsEnd(s);
        s.Hangup();
        _sinks[1].Aborted.Should().BeTrue("the client went away while the milters looked at the message");
    }
}
