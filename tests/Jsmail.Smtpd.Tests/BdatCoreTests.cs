using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// BDAT (RFC 3030) in the session core, driven by event scripts: the chunk
/// bytes as a driver hands them (in pieces, with the next command behind
/// them), the replies, and what reaches the sink.
/// </summary>
public sealed class BdatCoreTests : IDisposable
{
    private const long Now = 1_700_000_000;
    private readonly TempDir _home = new("jsmail-bdat");
    private readonly List<RecordingSink> _sinks = new();

    public void Dispose() => _home.Dispose();

    private SmtpSession Session(ulong? dataBytes = null, bool compat = false, params (string Name, string Content)[] controls)
    {
        Directory.CreateDirectory(_home["control"]);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        foreach (var (name, content) in controls) File.WriteAllText(_home["control/" + name], content);
        var settings = SmtpdSettings.Read(new ControlReader(_home.Path), _home.Path, compat, dataBytes);
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "client.example"u8.ToArray(), null, "mx.example"u8.ToArray(), null);
        return new SmtpSession(settings, client, () =>
        {
            var sink = new RecordingSink();
            _sinks.Add(sink);
            return sink;
        }, () => Now);
    }

    private static SessionStep Say(SmtpSession s, string line) => s.Command(Encoding.ASCII.GetBytes(line + "\r"));

    private static string Take(SmtpSession s)
    {
        var text = Encoding.Latin1.GetString(s.Output.ToArray());
        s.Output.Clear();
        return text;
    }

    /// <summary>Feeds input as a driver does, in pieces of at most <paramref name="piece"/> bytes; returns the last step and what was left unread.</summary>
    private static (SessionStep Step, int Unread) Feed(SmtpSession s, byte[] input, int piece = int.MaxValue)
    {
        var at = 0;
        var step = SessionStep.Data;
        while (step == SessionStep.Data && at < input.Length)
        {
            var n = Math.Min(piece, input.Length - at);
            step = s.Data(input.AsSpan(at, n), out var used);
            used.Should().BeLessThanOrEqualTo(n);
            at += used;
        }
        return (step, input.Length - at);
    }

    private static SmtpSession InTransaction(SmtpSession s, string mailParameters = "")
    {
        Say(s, "EHLO c.example");
        Say(s, "MAIL FROM:<s@x.example>" + mailParameters);
        Say(s, "RCPT TO:<a@example.com>");
        Take(s);
        return s;
    }

    [Fact]
    public void Ehlo_offers_chunking_and_binarymime_unless_switched_off_and_never_under_compat()
    {
        var s = Session();
        Say(s, "EHLO c");
        Take(s).Should().Contain("250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 LIMITS RCPTMAX=100\r\n");
        s = Session(controls: ("smtpdisable", "BINARYMIME\n"));
        Say(s, "EHLO c");
        Take(s).Should().Contain("250-CHUNKING\r\n250 LIMITS").And.NotContain("BINARYMIME");
        s = Session(controls: ("smtpdisable", "chunking\n"));
        Say(s, "EHLO c");
        Take(s).Should().NotContain("CHUNKING").And.NotContain("BINARYMIME");
        Say(s, "BDAT 3 LAST");
        Take(s).Should().Be("502 5.5.1 unimplemented (#5.5.1)\r\n");
        s = Session(compat: true, controls: ("smtpdisable", ""));
        Say(s, "EHLO c");
        Take(s).Should().NotContain("CHUNKING");
        Say(s, "BDAT 3 LAST");
        Take(s).Should().Be("502 unimplemented (#5.5.1)\r\n", "qmail-smtpd's answer to a verb it does not know");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(65536)]
    public void Chunks_of_any_size_are_read_exactly_and_the_next_command_is_left_alone(int size)
    {
        var s = InTransaction(Session());
        var body = new byte[size * 3];
        for (var i = 0; i < body.Length; i++) body[i] = (byte)"a\r\n.\r\n\nb"[i % 8];
        var replies = new StringBuilder();
        for (var c = 0; c < 3; c++)
        {
            Say(s, $"BDAT {size}").Should().Be(SessionStep.Data);
            var (step, unread) = Feed(s, [.. body.AsSpan(c * size, size), .. "NOOP\r\n"u8], piece: 4096);
            step.Should().Be(SessionStep.Command);
            unread.Should().Be(6, "the bytes behind the chunk are the next command's");
            replies.Append(Take(s));
        }
        replies.ToString().Should().Be(string.Concat(Enumerable.Repeat($"250 2.0.0 {size} octets received\r\n", 3)));
        var commit = s.Command("BDAT 0 LAST"u8);
        commit.Should().Be(SessionStep.Effect);
        var effect = s.PendingEffect.Should().BeOfType<CommitMessageEffect>().Subject;
        effect.Envelope.Recipients.Single().Should().Equal("a@example.com"u8.ToArray());
        s.CommitDone(QueueResult.Ok).Should().Be(SessionStep.Command);
        Take(s).Should().Be($"250 2.0.0 ok {Now} qp 4242\r\n");
        // CRLF (even split between chunks) becomes LF as DATA makes it; a bare LF and "\r\n.\r\n" are plain text.
        _sinks.Single().Body.Should().Be(Encoding.Latin1.GetString(body).Replace("\r\n", "\n"));
        _sinks[0].Aborted.Should().BeFalse();
    }

    [Fact]
    public void Bdat_zero_last_alone_queues_an_empty_message()
    {
        var s = InTransaction(Session());
        s.Command("BDAT 0 last"u8).Should().Be(SessionStep.Effect);
        s.CommitDone(QueueResult.Ok);
        Take(s).Should().Be($"250 2.0.0 ok {Now} qp 4242\r\n");
        _sinks.Single().Body.Should().BeEmpty();
    }

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT x")]
    [InlineData("BDAT -1")]
    [InlineData("BDAT 10 FIRST")]
    [InlineData("BDAT 1234567890123456789")]
    public void A_bad_size_gets_501_and_reads_no_chunk(string line)
    {
        var s = InTransaction(Session());
        Say(s, line).Should().Be(SessionStep.Command);
        Take(s).Should().Be("501 5.5.4 syntax: BDAT size [LAST] (#5.5.4)\r\n");
        Say(s, "BDAT 1 LAST").Should().Be(SessionStep.Data, "the transaction is still there");
    }

    [Fact]
    public void Bdat_without_mail_or_rcpt_is_refused_and_its_bytes_are_still_read()
    {
        var s = Session();
        Say(s, "EHLO c");
        Take(s);
        Say(s, "BDAT 5 LAST").Should().Be(SessionStep.Data);
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n");
        var (step, unread) = Feed(s, "RSET\r\nNOOP\r\n"u8.ToArray());
        step.Should().Be(SessionStep.Command);
        unread.Should().Be(7, "RSET\\r\\n was chunk data, not a command");
        Take(s).Should().BeEmpty("the refusal was the chunk's one reply");
        Say(s, "MAIL FROM:<s@x>");
        Say(s, "BDAT 0 LAST").Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 2.1.0 ok\r\n503 5.5.1 RCPT first (#5.5.1)\r\n");
        _sinks.Should().BeEmpty();
    }

    [Fact]
    public void Data_after_bdat_is_refused_and_nothing_is_queued()
    {
        var s = InTransaction(Session());
        Say(s, "BDAT 3");
        Feed(s, "abc"u8.ToArray());
        Say(s, "DATA").Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 2.0.0 3 octets received\r\n503 5.5.1 DATA after BDAT (#5.5.1)\r\n");
        _sinks.Single().Aborted.Should().BeTrue();
        Say(s, "BDAT 1 LAST").Should().Be(SessionStep.Data);
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n", "the transaction ended with the refusal");
        Feed(s, "x"u8.ToArray()).Step.Should().Be(SessionStep.Command);
        Say(s, "RCPT TO:<b@example.com>");
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n");
    }

    [Fact]
    public void Mail_or_rcpt_between_chunks_is_refused()
    {
        var s = InTransaction(Session());
        Say(s, "BDAT 1");
        Feed(s, "a"u8.ToArray());
        Say(s, "RCPT TO:<b@example.com>");
        Say(s, "MAIL FROM:<t@x>");
        Take(s).Should().Be("250 2.0.0 1 octets received\r\n503 5.5.1 MAIL first (#5.5.1)\r\n503 5.5.1 MAIL already given, RSET first (#5.5.1)\r\n");
        Say(s, "RSET");
        _sinks.Single().Aborted.Should().BeTrue("RSET drops the message begun by BDAT");
    }

    [Fact]
    public void A_chunk_over_databytes_gets_552_after_its_bytes_and_ends_the_transaction()
    {
        var s = InTransaction(Session(dataBytes: 100));
        Say(s, "BDAT 60");
        Feed(s, new byte[60]).Step.Should().Be(SessionStep.Command);
        Say(s, "BDAT 200").Should().Be(SessionStep.Data);
        var (step, unread) = Feed(s, [.. new byte[200], .. "BDAT 0 LAST\r\n"u8], piece: 64);
        step.Should().Be(SessionStep.Command);
        unread.Should().Be(13);
        Take(s).Should().Be("250 2.0.0 60 octets received\r\n552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
        _sinks.Single().Aborted.Should().BeTrue();
        Say(s, "BDAT 0 LAST");
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n", "RFC 3030: later chunks of a refused transaction are refused too");
    }

    [Fact]
    public void A_client_gone_mid_chunk_queues_nothing()
    {
        var s = InTransaction(Session());
        Say(s, "BDAT 100 LAST");
        Feed(s, new byte[40]).Step.Should().Be(SessionStep.Data);
        s.Hangup();
        _sinks.Single().Aborted.Should().BeTrue();
        s.PendingEffect.Should().BeNull();
    }

    [Fact]
    public void A_timeout_mid_chunk_queues_nothing()
    {
        var s = InTransaction(Session());
        Say(s, "BDAT 100 LAST");
        Feed(s, new byte[40]);
        s.Timeout().Should().Be(SessionStep.Close);
        _sinks.Single().Aborted.Should().BeTrue();
    }

    [Fact]
    public void Binarymime_is_queued_byte_for_byte_and_only_by_bdat()
    {
        var s = InTransaction(Session(), " BODY=BINARYMIME");
        Say(s, "DATA").Should().Be(SessionStep.Command);
        Take(s).Should().Be("503 5.5.1 BODY=BINARYMIME needs BDAT, not DATA (#5.5.1)\r\n");
        _sinks.Should().BeEmpty();

        s = InTransaction(Session(), " BODY=BINARYMIME");
        byte[] message = [.. "Subject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\n"u8, 0, 0xff, 13, 13, 10, 46, 13, 10, 10, 13];
        Say(s, "BDAT 7");
        Feed(s, message[..7]);
        Say(s, $"BDAT {message.Length - 7} LAST").Should().Be(SessionStep.Data);
        var effect = Feed(s, message[7..]).Step;
        effect.Should().Be(SessionStep.Effect);
        var commit = s.PendingEffect.Should().BeOfType<CommitMessageEffect>().Subject;
        commit.Envelope.Extension!.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("BODY=BINARYMIME");
        _sinks.Single().Body.Should().Be(Encoding.Latin1.GetString(message), "a BINARYMIME message keeps every byte, CRs included");
    }

    [Fact]
    public void Binarymime_is_refused_as_a_parameter_when_switched_off()
    {
        var s = Session(controls: ("smtpdisable", "BINARYMIME\n"));
        Say(s, "EHLO c");
        Say(s, "MAIL FROM:<s@x> BODY=BINARYMIME");
        Take(s).Should().StartWith("250-mx.example").And.EndWith("501 5.5.4 bad parameter value (#5.5.4)\r\n");
    }

    [Fact]
    public void A_bare_cr_in_a_text_message_is_refused_as_in_data_and_the_connection_stays()
    {
        var s = InTransaction(Session());
        Say(s, "BDAT 4 LAST");
        Feed(s, "a\rb\n"u8.ToArray()).Step.Should().Be(SessionStep.Command);
        Take(s).Should().Be("451 4.6.0 bare CR in message refused, see RFC 5321 section 2.3.8 (#4.6.0)\r\n");
        _sinks.Single().Aborted.Should().BeTrue();
    }
}
