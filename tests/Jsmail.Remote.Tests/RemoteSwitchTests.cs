using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// control/remotedisable: each feature of the SMTP client switched off on its
/// own, the scripted peer recording what it receives, in jsmail-remote and in
/// jsmail-rspawn's pooled deliveries. (AAAA: DefaultModeDnsTests; CHUNKING: ChunkingTests; LIMITS: LimitsTests.)
/// </summary>
public class RemoteSwitchTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-switch");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    /// <summary>8-bit (Latin-1 é), 26 bytes on disk.</summary>
    private const string Message = "Subject: caf\u00e9\n\nplain line\n";

    private static readonly Dictionary<string, string?> Parameters = new()
    {
        ["JSMAIL_MAIL_PARAMETERS"] = "RET=HDRS ENVID=QQ1 SMTPUTF8",
        ["JSMAIL_RCPT_PARAMETERS_0"] = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@x.test",
    };

    private static JsonObject Offering(params string[] keywords) => new()
    {
        ["replies"] = new JsonObject
        {
            ["EHLO"] = string.Join("\r\n", new[] { "stub" }.Concat(keywords).Select((k, i) => (i == keywords.Length ? "250 " : "250-") + k)),
        },
        ["hold"] = 0.2,
    };

    private static readonly string[] Everything = ["PIPELINING", "SIZE 1000000", "8BITMIME", "SMTPUTF8", "DSN"];

    private string Remote(string recipient = "c@x.test", bool compat = false, bool parameters = true)
    {
        File.WriteAllText(_dir["msg"], Message, Encoding.Latin1);
        var env = new Dictionary<string, string?>(parameters ? Parameters : []) { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null };
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote"), "x.test", "a@b", recipient },
            env: env, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private const string AllOnMail = "MAIL FROM:<a@b> SIZE=26 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ1\r\n";
    private const string AllOnRcpt = "RCPT TO:<c@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@x.test\r\n";

    [Theory]
    [InlineData("", "EHLO", AllOnMail, AllOnRcpt)]
    [InlineData("SIZE", "EHLO", "MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ1\r\n", AllOnRcpt)]
    [InlineData("8bitmime", "EHLO", "MAIL FROM:<a@b> SIZE=26 SMTPUTF8 RET=HDRS ENVID=QQ1\r\n", AllOnRcpt)]
    [InlineData("SMTPUTF8", "EHLO", "MAIL FROM:<a@b> SIZE=26 BODY=8BITMIME RET=HDRS ENVID=QQ1\r\n", AllOnRcpt)]
    [InlineData("DSN", "EHLO", "MAIL FROM:<a@b> SIZE=26 BODY=8BITMIME SMTPUTF8\r\n", "RCPT TO:<c@x.test>\r\n")]
    [InlineData("PIPELINING", "EHLO", AllOnMail, AllOnRcpt)]
    [InlineData("EHLO", "HELO", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@x.test>\r\n")]
    [InlineData("SIZE\n8BITMIME\nSMTPUTF8\nDSN\nPIPELINING", "EHLO", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@x.test>\r\n")]
    public void Each_feature_switched_off_alone_leaves_the_others(string disabled, string hello, string mail, string rcpt)
    {
        using var peer = new StubPeer(config: Offering(Everything));
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotedisable", disabled + "\n");
        // NOTIFY=SUCCESS not passed on is ours to report: the recipient's record says so (docs/spawn-protocol.md)
        Remote().Should().StartWith((rcpt.Contains("NOTIFY") ? "r|" : "rRelayed to 127.0.0.1 without DSN.\n|") + "K127.0.0.1 accepted message.");
        peer.Received.Should().MatchRegex("^" + hello + " [^\r]+\r\n")
            .And.Contain("\r\n" + mail + rcpt + "DATA\r\nSubject: caf\u00e9\r\n");

        var pipelined = !disabled.Contains("PIPELINING") && hello == "EHLO";
        var t = peer.Transcript;
        var m = Array.FindIndex(t, l => l.StartsWith("C: MAIL"));
        t[m + 1].Should().Be(pipelined ? "C: " + rcpt.TrimEnd() : "S: 250 ok", "RCPT waits for MAIL's reply only without PIPELINING");
    }

    [Fact]
    public void Compat_mode_switches_everything_off_whatever_remotedisable_says()
    {
        using var peer = new StubPeer(config: Offering(Everything));
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotedisable", "SIZE\n");
        Remote(compat: true).Should().StartWith("r|K127.0.0.1 accepted message.");
        peer.Received.Should().MatchRegex("^HELO [^\r]+\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n");
    }

    /// <summary>A feature off does its refusal no more: the message goes as qmail-remote sends it.</summary>
    [Theory]
    [InlineData("SIZE", "SIZE 10,8BITMIME", "c@x.test", "D127.0.0.1 accepts messages of at most 10 bytes; this one has 26. (#5.3.4)\n|")]
    [InlineData("8BITMIME", "SIZE 1000", "c@x.test",
        "DConnected to 127.0.0.1 but it does not support 8BITMIME, and this message has 8-bit bytes. (#5.6.3)\n|")]
    [InlineData("SMTPUTF8", "8BITMIME", "j\u00f6rg@x.test",
        "DConnected to 127.0.0.1 but it does not support SMTPUTF8, which this message needs. (#5.6.7)\n|")]
    public void A_refusal_goes_with_its_feature(string feature, string offered, string recipient, string refusal)
    {
        using (var on = new StubPeer(config: Offering(offered.Split(','))))
        {
            _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{on.Port}\n");
            Remote(recipient, parameters: false).Should().Be(refusal);
            on.Received.Should().NotContain("MAIL FROM");
        }
        using var off = new StubPeer(config: Offering(offered.Split(',')));
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{off.Port}\n");
        _home.WriteControl("remotedisable", feature + "\n");
        Remote(recipient, parameters: false).Should().StartWith("r|K127.0.0.1 accepted message.");
        // the address goes as the argument's bytes (UTF-8, quoted as qmail quotes 8-bit local parts); the record is read as Latin-1
        var local = Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(recipient.Split('@')[0]));
        off.Received.Should().MatchRegex($"\r\nRCPT TO:<\"?{local}\"?@x.test>\r\nDATA\r\nSubject: caf\u00e9\r\n");
    }

    [Fact]
    public void Pooled_deliveries_read_the_same_switches()
    {
        using var peer = new StubPeer(config: Offering("PIPELINING", "SIZE 1000000", "8BITMIME"));
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotedisable", "SIZE\n8BITMIME\n");
        _home.WriteControl("remotesessions", "1\n");
        var commands = new List<byte>();
        foreach (var i in new[] { 0, 1 })
        {
            File.WriteAllText(_home.Queue($"mess/0/60{i}"), Message, Encoding.Latin1);
            commands.AddRange([(byte)i, .. Encoding.Latin1.GetBytes($"0/60{i}\0s@x\0u{i}@y.test\0")]);
        }
        File.WriteAllBytes(_dir["commands"], [.. commands]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin" });
        r.ExitCode.Should().Be(0, r.Err);
        var output = Encoding.Latin1.GetString(r.Stdout);
        output.Split("K127.0.0.1 accepted message.").Length.Should().Be(3, output);
        // one session (the second MAIL right after the first message's end: no RSET after an accepted message),
        // EHLO and PIPELINING on, SIZE and 8BITMIME off
        peer.Received.Should().MatchRegex("^EHLO [^\r]+\r\nMAIL FROM:<s@x>\r\nRCPT TO:<u[01]@y.test>\r\nDATA\r\n")
            .And.MatchRegex("\r\n\\.\r\nMAIL FROM:<s@x>\r\nRCPT TO:<u[01]@y.test>\r\nDATA\r\n");
    }
}
