using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// A peer's LIMITS (RFC 9422) obeyed: RCPTMAX splits a delivery into
/// transactions on one session, each recipient reported with its own
/// transaction's outcome; MAILMAX bounds the transactions of a session, in
/// jsmail-remote and in jsmail-rspawn's pool. The scripted peer enforces the
/// limits it announces (452 past RCPTMAX, 451 past MAILMAX), so a client
/// that did not obey would be seen.
/// </summary>
public class LimitsTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-limits");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private static JsonObject Limits(int rcptMax, int mailMax, params string[] more)
    {
        string[] keywords = [.. more, $"LIMITS RCPTMAX={rcptMax}" + (mailMax > 0 ? $" MAILMAX={mailMax}" : "")];
        return new()
        {
            ["replies"] = new JsonObject
            {
                ["EHLO"] = string.Join("\r\n", new[] { "stub" }.Concat(keywords).Select((k, i) => (i == keywords.Length ? "250 " : "250-") + k)),
            },
            ["rcptmax"] = rcptMax,
            ["mailmax"] = mailMax,
        };
    }

    private static string[] Recipients(int n) => Enumerable.Range(0, n).Select(i => $"u{i}@x.test").ToArray();

    private string Remote(bool compat = false, params string[] recipients)
    {
        File.WriteAllText(_dir["msg"], "Subject: limits\n\nbody\n");
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote"), "x.test", "a@b" }.Concat(recipients),
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private StubPeer Peer(JsonObject config)
    {
        var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        return peer;
    }

    private const string K = "K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rcptmax_splits_the_recipients_into_transactions_on_one_session(bool pipelining)
    {
        using var peer = Peer(Limits(2, 0, pipelining ? ["PIPELINING"] : []));
        Remote(false, Recipients(5)).Should().Be("r|r|r|r|r|" + K);
        var commands = peer.Transcript.Where(l => l.StartsWith("C: ")).Select(l => l[3..]).SkipWhile(l => !l.StartsWith("MAIL")).ToArray();
        commands.Should().Equal(
            "MAIL FROM:<a@b>", "RCPT TO:<u0@x.test>", "RCPT TO:<u1@x.test>", "DATA", ".",
            "MAIL FROM:<a@b>", "RCPT TO:<u2@x.test>", "RCPT TO:<u3@x.test>", "DATA", ".",
            "MAIL FROM:<a@b>", "RCPT TO:<u4@x.test>", "DATA", ".", "QUIT"); // an accepted message ends its transaction: no RSET
        peer.Clients.Should().HaveCount(1);
    }

    [Fact]
    public void Each_recipient_gets_its_own_transactions_result_and_the_message_record_is_the_first_accepted()
    {
        var config = Limits(2, 0);
        config["finals"] = new JsonArray("554 5.7.1 spam", "250 ok 1 qp 2", "451 4.3.0 later");
        config["rcpt"] = new JsonObject { ["u1@"] = "550 5.1.1 unknown" };
        using var peer = Peer(config);
        Remote(false, Recipients(5)).Should().Be(
            "h127.0.0.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam\n|" +
            "h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 unknown\n|" +
            "r|r|" +
            "s127.0.0.1 failed after I sent the message.\nRemote host said: 451 4.3.0 later\n|" + K);
    }

    [Fact]
    public void With_no_transaction_accepted_the_first_failure_is_the_message_record()
    {
        var config = Limits(2, 0);
        config["finals"] = new JsonArray("451 4.3.0 later", "554 5.7.1 spam");
        using var peer = Peer(config);
        Remote(false, Recipients(4)).Should().Be(
            "r|r|" +
            "h127.0.0.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam\n|" +
            "h127.0.0.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam\n|" +
            "Z127.0.0.1 failed after I sent the message.\nRemote host said: 451 4.3.0 later\n|");
        peer.Transcript.Count(l => l == "C: MAIL FROM:<a@b>").Should().Be(2);
    }

    [Fact]
    public void A_session_that_dies_leaves_the_later_transactions_recipients_deferred()
    {
        var config = Limits(1, 0);
        config["close_on"] = "MAIL#2";
        using var peer = Peer(config);
        Remote(false, Recipients(3)).Should().Be("r|" +
            "sConnected to 127.0.0.1 but connection died. (#4.4.2)\n|" +
            "sConnected to 127.0.0.1 but the session ended before this recipient's transaction. (#4.4.2)\n|" + K);
    }

    [Fact]
    public void Mailmax_defers_the_recipients_a_session_has_no_transaction_left_for()
    {
        using var peer = Peer(Limits(1, 2));
        Remote(false, Recipients(3)).Should().Be("r|r|" +
            "sConnected to 127.0.0.1 but its LIMITS MAILMAX=2 left no transaction on this session for this recipient. (#4.5.3)\n|" + K);
        peer.Transcript.Count(l => l == "C: MAIL FROM:<a@b>").Should().Be(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Limits_off_or_compat_mode_send_one_transaction_as_before(bool compat)
    {
        if (!compat) _home.WriteControl("remotedisable", "LIMITS\n");
        using var peer = Peer(Limits(2, 0));
        const string tooMany = "s127.0.0.1 does not like recipient.\nRemote host said: 452 4.5.3 too many recipients\n|";
        Remote(compat, Recipients(4)).Should().Be("r|r|" + tooMany + tooMany + K);
        var t = peer.Transcript;
        t.Count(l => l.StartsWith("C: MAIL")).Should().Be(1);
        t.Count(l => l.StartsWith("C: RCPT")).Should().Be(4);
        t.Should().Contain(l => l.StartsWith(compat ? "C: HELO " : "C: EHLO "));
    }

    // ---- jsmail-rspawn's pool ----

    private string RSpawn(byte[] commands)
    {
        File.WriteAllBytes(_dir["commands"], commands);
        var env = new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_SPAWN_PROTOCOL"] = "jsmail1" };
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private byte[] Grouped(byte slot, string id, IEnumerable<string> recipients)
    {
        File.WriteAllText(_home.Queue($"mess/0/{id}"), "Subject: pooled\n\nbody\n");
        return [0xFF, slot, .. Encoding.Latin1.GetBytes($"0/{id}\0s@x\0" + string.Concat(recipients.Select(r => r + "\0")) + "\0")];
    }

    private const string Announcement = "x\u00ffJrecipients=1000|";

    [Fact]
    public void A_pooled_split_delivery_gives_each_recipient_its_own_result()
    {
        var config = Limits(2, 0);
        config["finals"] = new JsonArray("250 ok 1 qp 2", "554 5.7.1 spam");
        using var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        RSpawn(Grouped(7, "800", ["a@y.test", "b@y.test", "c@y.test"])).Should().Be(Announcement
            + "\u0007" + K + "\u0007" + K
            + "\u0007D127.0.0.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam\n|");
        peer.Transcript.Count(l => l.StartsWith("C: MAIL")).Should().Be(2);
    }

    [Fact]
    public void A_pooled_session_starts_no_more_transactions_than_mailmax_and_a_fresh_one_takes_the_rest()
    {
        var config = Limits(2, 3);
        config["connections"] = 2;
        using var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        // two deliveries of two transactions each: the second does not fit in the first's session (3 - 2 left: 1)
        var output = RSpawn([.. Grouped(1, "801", ["a@y.test", "b@y.test", "c@y.test"]), .. Grouped(2, "802", ["d@y.test", "e@y.test", "f@y.test"])]);
        output.Split(K).Length.Should().Be(7, output);
        peer.Transcript.Count(l => l.StartsWith("C: MAIL")).Should().Be(4);
        peer.Transcript.Should().NotContain(l => l.StartsWith("S: 451"), "no session went past MAILMAX");
        peer.Clients.Should().HaveCount(2);
    }

    [Fact]
    public void A_pooled_session_at_mailmax_is_closed_not_reused()
    {
        var config = Limits(10, 1);
        config["connections"] = 3;
        using var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        var output = RSpawn([.. Grouped(1, "803", ["a@y.test"]), .. Grouped(2, "804", ["b@y.test"]), .. Grouped(3, "805", ["c@y.test"])]);
        output.Split(K).Length.Should().Be(4, output);
        peer.Transcript.Should().NotContain("C: RSET");
        peer.Clients.Should().HaveCount(3);
    }
}
