using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// Whole conversations through the real tcpserver (ucspi-tcp) with a tcprules
/// CDB setting RELAYCLIENT, DATABYTES and QMAILQUEUE, driven by real clients;
/// each message is then read back from the queue.
/// </summary>
public sealed class TcpserverTests : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new();
    private readonly Process _server;
    private readonly int _port;

    public TcpserverTests()
    {
        var queueWrapper = _dir["queue-wrapper"];
        File.WriteAllText(queueWrapper, $"#!/bin/sh\necho used >> {_dir["wrapper-used"]}\nexec {_h.Home.Bin("qmail-queue")}\n");
        File.SetUnixFileMode(queueWrapper, (UnixFileMode)0x1ED);
        var rules = $"127.0.0.1:allow,RELAYCLIENT=\"\",DATABYTES=\"5000\",QMAILQUEUE=\"{queueWrapper}\"\n:deny\n";
        var r = Run.Process("tcprules", [_dir["rules.cdb"], _dir["rules.tmp"]], Encoding.ASCII.GetBytes(rules));
        r.ExitCode.Should().Be(0, r.Err);

        _port = Ports.Free();
        _server = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", _dir["rules.cdb"], "-c", "10", "127.0.0.1", _port.ToString(), _h.Home.Bin("qmail-smtpd")],
            env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output);
        Ports.WaitForListener(_port, "tcpserver");
    }

    private RunResult Swaks(params string[] extra)
    {
        var args = new List<string> { "--server", "127.0.0.1", "--port", _port.ToString(), "--helo", "client.example",
            "--from", "s@x", "--timeout", "20" };
        args.AddRange(extra);
        return Run.Process("swaks", args, timeoutMs: 60_000);
    }

    private string MessageFile(string body)
    {
        var f = _dir["msg-" + Guid.NewGuid().ToString("N")];
        File.WriteAllText(f, body.TrimEnd('\n')); // swaks ends the data with its own CRLF
        return f;
    }

    [Fact]
    public void Swaks_plain_relays_through_relayclient_and_queues_byte_for_byte()
    {
        var body = "From: s@x\nTo: a@other.com\nSubject: plain\n\n.starts with a dot\nline two\n";
        var r = Swaks("--to", "a@other.com,b@example.com", "--data", MessageFile(body));
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Should().Contain("<-  250-PIPELINING").And.Contain("<-  250 2.1.5 ok").And.MatchRegex("<-  250 2.0.0 ok \\d+ qp \\d+");
        var (todo, message) = _h.Queued().Single();
        SmtpdHome.S(todo).Should().EndWith("\0Fs@x\0Ta@other.com\0Tb@example.com\0");
        SmtpdHome.Body(message).Should().Be(body);
        SmtpdHome.S(message).Split('\n')[1].Should().Be("Received: from unknown (HELO client.example) (127.0.0.1)");
        SmtpdHome.S(message).Split('\n')[2].Should().StartWith("  by mx.example with ESMTP; ");
        File.ReadAllText(_dir["wrapper-used"]).Should().Be("used\n");
    }

    [Fact]
    public void Swaks_pipelined_group_is_answered_in_order()
    {
        var body = "Subject: pipelined\n\nbody\n";
        var r = Swaks("--pipeline", "--to", "a@other.com", "--data", MessageFile(body));
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        var replies = r.Out.Split('\n').Where(l => l.StartsWith("<-")).Select(l => l.Trim()).ToList();
        replies.Should().ContainInOrder("<-  250 2.1.0 ok", "<-  250 2.1.5 ok", "<-  354 go ahead");
        SmtpdHome.Body(_h.Queued().Single().Message).Should().Be(body);
    }

    [Fact]
    public void Swaks_message_over_databytes_from_tcprules_is_refused()
    {
        var body = "Subject: big\n\n" + string.Concat(Enumerable.Repeat(new string('y', 70) + "\n", 100));
        var r = Swaks("--to", "a@other.com", "--data", MessageFile(body));
        r.Out.Should().Contain("552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)");
        _h.Queued().Should().BeEmpty();
    }

    [Fact]
    public void Python_smtplib_with_size_8bitmime_and_dsn()
    {
        var script = """
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=20)
s.ehlo('py.example')
assert s.has_extn('size') and s.esmtp_features['size'] == '5000', s.esmtp_features
assert s.has_extn('dsn') and s.has_extn('enhancedstatuscodes') and s.has_extn('smtputf8')
msg = b'Subject: py\r\n\r\nh\xc3\xa9llo\r\n.dot\r\n'
refused = s.sendmail('s@x', ['a@other.com', 'b@example.com'], msg,
    mail_options=['BODY=8BITMIME', 'RET=HDRS', 'ENVID=env+2Bid'],
    rcpt_options=['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;a@other.com'])
assert refused == {}, refused
try:
    s.sendmail('s@x', ['a@other.com'], b'x' * 6000)
    print('accepted too big')
except smtplib.SMTPSenderRefused as e:
    print('refused', e.smtp_code, e.smtp_error.decode())
s.quit()
""";
        File.WriteAllText(_dir["client.py"], script);
        var r = Run.Process("/usr/bin/python3", [_dir["client.py"], _port.ToString()], timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("refused 552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\n");

        var id = _h.Home.Entries("todo").Single();
        SmtpdHome.Body(_h.Home.ReadQueueFile(Path.Combine("mess", (long.Parse(id) % 23).ToString(), id)))
            .Should().Be("Subject: py\n\nh\u00c3\u00a9llo\n.dot\n");
        var ext = EnvelopeExtensionCodec.Decode(_h.Home.ReadQueueFile(Path.Combine("ext", (long.Parse(id) % 23).ToString(), id)), 2);
        string.Join(" ", ext.Sender.Select(p => p.Keyword + "=" + p.ValueText))
            .Should().Be("SIZE=" + Encoding.UTF8.GetByteCount("Subject: py\r\n\r\nh\u00e9llo\r\n.dot\r\n") + " BODY=8BITMIME RET=HDRS ENVID=env+2Bid");
        string.Join(" ", ext.ParametersOf(0).Concat(ext.ParametersOf(1)).Select(p => p.Keyword + "=" + p.ValueText))
            .Should().Be("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@other.com NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@other.com");
    }

    /// <summary>qmail-spp plugins (docs/smtp-plugins.md) as a qmail site runs them: control/smtpplugins is read per connection.</summary>
    [Fact]
    public void Swaks_sees_qmail_spps_refusal_and_a_plugins_header_reaches_the_queue()
    {
        var plugins = Path.Combine(_h.Home.Path, "plugins");
        Directory.CreateDirectory(plugins);
        void Plugin(string name, string script)
        {
            File.WriteAllText(Path.Combine(plugins, name), "#!/bin/sh\n" + script + "\n");
            File.SetUnixFileMode(Path.Combine(plugins, name), (UnixFileMode)0x1ED);
        }
        Plugin("badsender", """case "$SMTPMAILFROM" in *@spam.example) echo "E553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)" ;; esac""");
        Plugin("tagger", """echo "HX-Spp-Helo: $SMTPHELOHOST" """);
        _h.Home.WriteControl("smtpplugins", "[mail]\nplugins/badsender\n[rcpt]\nplugins/tagger\n");

        var refused = Swaks("--from", "x@spam.example", "--to", "a@example.com", "--body", "hello");
        refused.Out.Should().Contain("<** 553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)");
        _h.Queued().Should().BeEmpty();
        var accepted = Swaks("--from", "s@x.example", "--to", "a@example.com", "--body", "hello");
        accepted.ExitCode.Should().Be(0, accepted.Out + accepted.Err);
        var message = SmtpdHome.S(_h.Queued().Single().Message).Split('\n');
        message[2].Should().StartWith("  by mx.example with ESMTP; ");
        message[3].Should().Be("X-Spp-Helo: client.example");
    }

    public void Dispose()
    {
        try { _server.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _server.WaitForExit(10_000);
        _server.Dispose();
        _dir.Dispose();
        _h.Dispose();
    }
}
