using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// Send-time processing through jsmail-remote against the scripted peer:
/// control/remoteprocessors rewrites what is sent, and a processor that
/// fails or hangs makes the delivery a temporary failure before any connection.
/// </summary>
public class SendTimeProcessingTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-processing");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private const string Message = "From: alice@example.com\nTo: bob@x.test\nSubject: hello\n\nhello world\n.dot\n";

    private (string Out, int Code) Remote(string message, bool compat = false, params string[] args)
    {
        File.WriteAllText(_dir["msg"], message, Encoding.Latin1);
        var env = new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = compat ? "qmail" : null, ["MSG"] = _dir["msg"] };
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote") }.Concat(args),
            env: env, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return (Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|'), r.ExitCode);
    }

    private static StubPeer Peer(int timeout = 30) => new(config: new JsonObject { ["timeout"] = timeout });

    private void RouteTo(StubPeer peer) => _home.WriteControl("smtproutes", $"x.test:{peer.Ip}:{peer.Port}\n");

    /// <summary>The message as the peer got it: the DATA section, dots unstuffed.</summary>
    private static string Data(string received)
    {
        var start = received.IndexOf("DATA\r\n", StringComparison.Ordinal);
        var end = received.IndexOf("\r\n.\r\n", start, StringComparison.Ordinal);
        start.Should().BeGreaterThanOrEqualTo(0, received);
        var lines = received[(start + 6)..(end + 2)].Split("\r\n");
        return string.Join("\r\n", lines.Select(l => l.StartsWith('.') ? l[1..] : l));
    }

    [Fact]
    public void Processors_rewrite_the_message_in_order_and_see_the_envelope()
    {
        using var peer = Peer();
        RouteTo(peer);
        _home.WriteControl("remoteprocessors",
            "# comments and blank lines are skipped\n\n" +
            "sed 's/hello world/HELLO WORLD/'\n" +
            "{ printf 'X-Envelope: %s %s %s\\n' \"$SENDER\" \"$(printf '%s' \"$RECIPIENTS\" | tr '\\n' ,)\" \"$HOST\"; cat; }\n");
        var (output, code) = Remote(Message, false, "x.test", "alice@example.com", "bob@x.test", "carol@x.test");
        code.Should().Be(0);
        output.Should().StartWith("r|r|K127.0.0.1 accepted message.");
        Data(peer.Received).Should().Be(
            "X-Envelope: alice@example.com bob@x.test,carol@x.test x.test\r\n" +
            "From: alice@example.com\r\nTo: bob@x.test\r\nSubject: hello\r\n\r\nHELLO WORLD\r\n.dot\r\n");
    }

    [Fact]
    public void The_processed_size_and_8bit_content_are_what_the_peer_is_told()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250-SIZE 100000\r\n250 8BITMIME" } });
        RouteTo(peer);
        _home.WriteControl("remoteprocessors", "cat; printf 'added \\374\\n'\n");
        var (output, _) = Remote(Message, false, "x.test", "a@b", "bob@x.test");
        output.Should().StartWith("r|K");
        var processedSize = Encoding.Latin1.GetByteCount(Message + "added \xfc\n");
        peer.Received.Should().Contain($"MAIL FROM:<a@b> SIZE={processedSize} BODY=8BITMIME\r\n");
        Data(peer.Received).Should().EndWith(".dot\r\nadded \xfc\r\n");
    }

    [Theory]
    [InlineData("echo 'key not readable' >&2; exit 3", "ZSend-time processor echo 'key not readable' >&2; exit 3 failed (exit code 3). (#4.3.0)\nIt said: key not readable\n|")]
    [InlineData("cat >/dev/null", "ZSend-time processor cat >/dev/null produced no output. (#4.3.0)\n|")]
    [InlineData("kill -9 $$", "ZSend-time processor kill -9 $$ crashed (signal 9). (#4.3.0)\n|")]
    [InlineData("/nonexistent/program", "ZSend-time processor /nonexistent/program failed (exit code 127). (#4.3.0)\nIt said: /bin/sh: 1: /nonexistent/program: not found\n|")]
    public void A_failing_processor_is_a_temporary_failure_naming_it_and_nothing_is_sent(string command, string expected)
    {
        using var peer = Peer(timeout: 3);
        RouteTo(peer);
        _home.WriteControl("remoteprocessors", "cat\n" + command + "\n");
        Remote(Message, false, "x.test", "a@b", "bob@x.test").Out.Should().Be(expected);
        peer.Received.Should().BeEmpty("the delivery stops before connecting");
        File.ReadAllText(_dir["msg"], Encoding.Latin1).Should().Be(Message, "the message is never touched");
    }

    [Fact]
    public void A_hanging_processor_is_killed_with_its_process_group_after_the_timeout()
    {
        using var peer = Peer(timeout: 5);
        RouteTo(peer);
        _home.WriteControl("timeoutremoteprocessor", "1\n");
        var command = $"sleep 300 & echo $! >{_dir["bg"]}; echo waiting >&2; sleep 300";
        _home.WriteControl("remoteprocessors", command + "\n");
        var (output, _) = Remote(Message, false, "x.test", "a@b", "bob@x.test");
        output.Should().Be($"ZSend-time processor {command} timed out after 1 seconds. (#4.3.0)\nIt said: waiting\n|");
        var background = int.Parse(File.ReadAllText(_dir["bg"]).Trim());
        var gone = false;
        for (var i = 0; i < 100 && !gone; i++)
        {
            // killed: gone, or a zombie waiting for whoever adopted it
            gone = !File.Exists($"/proc/{background}/stat") || File.ReadAllText($"/proc/{background}/stat").Split(' ')[2] == "Z";
            if (!gone) Thread.Sleep(50);
        }
        gone.Should().BeTrue("the processor's background child is killed with its group");
        peer.Received.Should().BeEmpty();
    }

    [Fact]
    public void With_JSMAIL_COMPAT_qmail_no_processor_runs()
    {
        using var peer = Peer();
        RouteTo(peer);
        _home.WriteControl("remoteprocessors", "exit 1\n");
        Remote(Message, true, "x.test", "a@b", "bob@x.test").Out.Should().StartWith("r|K127.0.0.1 accepted message.");
        Data(peer.Received).Should().Be(Message.Replace("\n", "\r\n"));
    }

    [Fact]
    public void The_dkim_signer_as_a_processor_signs_what_the_peer_receives()
    {
        // The peer offers 8BITMIME: without it an 8-bit message is refused with 5.6.3 before any signing matters.
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 30, ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 8BITMIME" } });
        RouteTo(peer);
        var records = new Dictionary<string, string>
        {
            ["s1._domainkey.example.com"] = DkimVerifier.MakeKey(_home.Control("example.pem")),
        };
        _home.WriteControl("dkimkeys", "example.com:s1:control/example.pem\n");
        _home.WriteControl("remoteprocessors", "bin/jsmail-dkimsign\n");
        var message = "From: Alice <alice@example.com>\nTo: bob@x.test,\n carol@x.test\nSubject: gr\xfc\xdf" + "e\n\n.leading dot\n8-bit \xe9t\xe9  body\nbare\rcr\n";
        Remote(message, false, "x.test", "alice@example.com", "bob@x.test").Out.Should().StartWith("r|K");
        var received = Encoding.Latin1.GetBytes(Data(peer.Received));
        Encoding.Latin1.GetString(received).Should().StartWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;");
        DkimVerifier.Verify(received, records, asOnTheWire: false).Should().Be("pass s1._domainkey.example.com");
    }
}
