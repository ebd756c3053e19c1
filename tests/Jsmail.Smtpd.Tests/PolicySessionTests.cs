using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp.Policy;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>The session core's policy questions as effects, answered by the test: no socket, no service.</summary>
public sealed class PolicySessionTests : IDisposable
{
    private readonly TempDir _home = new("jsmail-policy-session");
    private readonly List<(List<byte> Bytes, bool[] Aborted)> _sinks = new();

    public void Dispose() => _home.Dispose();

    private sealed class Sink(List<byte> bytes, bool[] aborted) : IMessageSink
    {
        public int Pid => 77;
        public void Write(ReadOnlySpan<byte> data) => bytes.AddRange(data.ToArray());
        public void Abort() => aborted[0] = true;
    }

    private SmtpSession Session(string policy)
    {
        Directory.CreateDirectory(_home["control"]);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        File.WriteAllText(_home["control/policy"], policy);
        var settings = SmtpdSettings.Read(new ControlReader(_home.Path), _home.Path, compat: false, dataBytesFromEnv: null);
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "unknown"u8.ToArray(), null, "mx.example"u8.ToArray(), null);
        return new SmtpSession(settings, client, () =>
        {
            var sink = (new List<byte>(), new bool[1]);
            _sinks.Add(sink);
            return new Sink(sink.Item1, sink.Item2);
        }, () => 1_700_000_000);
    }

    private static SessionStep Say(SmtpSession s, string line) => s.Command(Encoding.ASCII.GetBytes(line + "\r"));

    private static string Take(SmtpSession s)
    {
        var text = Encoding.Latin1.GetString(s.Output.ToArray());
        s.Output.Clear();
        return text;
    }

    private static PolicyEffect Asked(SmtpSession s, SessionStep step)
    {
        step.Should().Be(SessionStep.Effect);
        return s.PendingEffect.Should().BeOfType<PolicyEffect>().Subject;
    }

    private static PolicyAnswer Answer(string action) => new(PolicyReply.Action(action), null);

    [Fact]
    public void Services_are_asked_in_order_and_defer_if_permit_waits_for_the_end_of_the_round()
    {
        var s = Session("inet:127.0.0.1:1\ninet:127.0.0.1:2 default=dunno\ninet:127.0.0.1:3 stages=mail\n");
        Say(s, "HELO c.example").Should().Be(SessionStep.Command);
        var mail = Asked(s, Say(s, "MAIL FROM:<s@x.example>"));
        mail.Client.Service.Name.Should().Be("inet:127.0.0.1:3", "only the third is asked at MAIL");
        Encoding.ASCII.GetString(mail.Request).Should().Contain("protocol_state=MAIL\n").And.Contain("sender=s@x.example\n");
        s.PolicyDone(Answer("DUNNO")).Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 mx.example\r\n250 2.1.0 ok\r\n");

        var first = Asked(s, Say(s, "RCPT TO:<a@example.com>"));
        first.Client.Service.Name.Should().Be("inet:127.0.0.1:1");
        Take(s).Should().BeEmpty("nothing is answered before the services are");
        var second = Asked(s, s.PolicyDone(Answer("DEFER_IF_PERMIT greylisted")));
        second.Client.Service.Name.Should().Be("inet:127.0.0.1:2");
        s.PolicyDone(PolicyAnswer.Failed("cannot connect: refused")).Should().Be(SessionStep.Command, "default=dunno, and the round ends");
        Take(s).Should().Be("450 4.7.1 <a@example.com>: Recipient address rejected: greylisted\r\n");

        Asked(s, Say(s, "RCPT TO:<b@example.com>"));
        s.PolicyDone(PolicyAnswer.Failed("no answer within 100 seconds")).Should().Be(SessionStep.Command, "tempfail ends the round");
        Take(s).Should().Be("451 4.3.5 <b@example.com>: Recipient address rejected: Server configuration problem\r\n");
    }

    [Fact]
    public void A_client_gone_while_end_of_message_is_asked_leaves_nothing_queued()
    {
        var s = Session("inet:127.0.0.1:1 stages=rcpt,end-of-message\n");
        Say(s, "HELO c.example");
        Say(s, "MAIL FROM:<s@x.example>").Should().Be(SessionStep.Command, "MAIL is not among the service's stages");
        Asked(s, Say(s, "RCPT TO:<a@example.com>"));
        s.PolicyDone(Answer("PREPEND X-Two: 2"));
        Say(s, "DATA").Should().Be(SessionStep.Data);
        var eom = Asked(s, s.Data("hi\r\n.\r\n"u8, out _));
        Encoding.ASCII.GetString(eom.Request).Should().Contain("protocol_state=END-OF-MESSAGE\n").And.Contain("size=3\n");
        _sinks[0].Bytes.Should().BeEmpty("with a service asked at END-OF-MESSAGE the message is held until it answered");
        s.Hangup();
        _sinks[0].Aborted[0].Should().BeTrue();
    }

    [Fact]
    public void Hold_at_end_of_message_queues_the_held_message_for_the_quarantine_with_its_envelope_on_top()
    {
        var s = Session("inet:127.0.0.1:1 stages=rcpt,end-of-message\n");
        Say(s, "EHLO c.example");
        Say(s, "MAIL FROM:<s@x.example> RET=HDRS");
        Asked(s, Say(s, "RCPT TO:<a@example.com> NOTIFY=NEVER"));
        s.PolicyDone(Answer("PREPEND X-Two: 2"));
        Say(s, "DATA");
        Asked(s, s.Data("hi\r\n.\r\n"u8, out _));
        s.PolicyDone(Answer("HOLD check it")).Should().Be(SessionStep.Effect);
        var commit = s.PendingEffect.Should().BeOfType<CommitMessageEffect>().Subject;
        commit.Envelope.Recipients.Select(r => Encoding.ASCII.GetString(r)).Should()
            .Equal(["postmaster@mx.example"], "without control/quarantine a held message goes to postmaster at control/me");
        commit.Envelope.Extension!.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("RET=HDRS");
        commit.Envelope.Extension.Recipients.Should().BeEmpty("the recipients' parameters stay in the fields");
        Encoding.Latin1.GetString(_sinks[0].Bytes.ToArray()).Should().StartWith("X-Jsmail-Quarantine: check it\n" +
            "X-Jsmail-Quarantine-Sender: <s@x.example> RET=HDRS\nX-Jsmail-Quarantine-Recipient: <a@example.com> NOTIFY=NEVER\n" +
            "X-Two: 2\nReceived: ").And.EndWith("\nhi\n");
    }
}
