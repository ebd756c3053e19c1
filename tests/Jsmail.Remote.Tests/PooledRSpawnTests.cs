using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-rspawn's pooled mode (the default outside compat mode): deliveries
/// made in-process over reused sessions to a scripted peer on loopback,
/// counted at the peer.
/// </summary>
public class PooledRSpawnTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-pool");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private string Message(string id, string text = "Subject: x\n\nbody\n")
    {
        File.WriteAllText(_home.Queue($"mess/0/{id}"), text);
        return $"0/{id}";
    }

    private static byte[] Command(byte slot, string mess, string sender, string recipient) =>
        [slot, .. Encoding.Latin1.GetBytes($"{mess}\0{sender}\0{recipient}\0")];

    /// <summary>jsmail's grouped command (docs/spawn-protocol.md).</summary>
    private static byte[] Grouped(byte slot, string mess, string sender, IEnumerable<string> recipients) =>
        [0xFF, slot, .. Encoding.Latin1.GetBytes($"{mess}\0{sender}\0" + string.Concat(recipients.Select(r => r + "\0")) + "\0")];

    /// <summary>Runs jsmail-rspawn on the commands, offered grouped commands; its output with NULs as '|'.</summary>
    /// <param name="descriptors">a limit on open descriptors (ulimit -n), 0: none</param>
    private string RSpawn(byte[] commands, Dictionary<string, string?>? env = null, int descriptors = 0)
    {
        File.WriteAllBytes(_dir["commands"], commands);
        env ??= new();
        env["PATH"] = _home.Path + "/bin:/usr/bin:/bin";
        env["JSMAIL_SPAWN_PROTOCOL"] = "jsmail1";
        var limit = descriptors > 0 ? $"ulimit -n {descriptors}; " : "";
        var r = Run.Process("/bin/bash", ["-c", limit + "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private const string Announcement = "x\u00ffJrecipients=1000|";
    private const string Accepted = "K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    private static int Count(IEnumerable<string> transcript, string prefix) => transcript.Count(l => l.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public void Ten_recipients_at_one_domain_go_in_one_transaction()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 PIPELINING" } });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var recipients = Enumerable.Range(0, 10).Select(i => $"u{i}@y.test").ToList();
        var output = RSpawn(Grouped(4, Message("200"), "s@x", recipients));
        output.Should().Be(Announcement + string.Concat(Enumerable.Repeat("\u0004" + Accepted, 10)));
        var transcript = peer.Transcript;
        Count(transcript, "C: MAIL").Should().Be(1);
        Count(transcript, "C: RCPT").Should().Be(10);
        Count(transcript, "C: DATA").Should().Be(1);
        peer.Clients.Should().HaveCount(1);
    }

    [Fact]
    public void Each_recipient_gets_its_own_result()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["rcpt"] = new JsonObject { ["later@"] = "450 try later", ["never@"] = "550 no such user" },
        });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var output = RSpawn(Grouped(7, Message("201"), "s@x", ["ok@y.test", "later@y.test", "never@y.test"]));
        output.Should().Be(Announcement
            + "\u0007" + Accepted
            + "\u0007Z127.0.0.1 does not like recipient.\nRemote host said: 450 try later\n|"
            + "\u0007D127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n|");
        Count(peer.Transcript, "C: DATA").Should().Be(1);
    }

    /// <summary>JSMAIL_POOL_TEST_MESSAGES for a bigger run (default 40; at most 120, the slot limit).</summary>
    [Fact]
    public void Many_messages_to_one_destination_share_one_session()
    {
        var n = Math.Clamp(int.TryParse(Environment.GetEnvironmentVariable("JSMAIL_POOL_TEST_MESSAGES"), out var v) ? v : 40, 2, 120);
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 120 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        var commands = Enumerable.Range(0, n).SelectMany(i => Command((byte)i, Message($"{300 + i}"), "s@x", $"u{i}@y.test")).ToArray();
        var output = RSpawn(commands);
        output.Split(Accepted).Length.Should().Be(n + 1, output);
        var transcript = peer.Transcript;
        Count(transcript, "C: MAIL").Should().Be(n);
        Count(transcript, "C: RSET").Should().Be(0, "an accepted message ends its transaction (RFC 5321 4.1.1.4)");
        peer.Clients.Should().HaveCount(1);
    }

    /// <summary>
    /// Out of descriptors, the deliveries that cannot get one are deferred and
    /// the spawner lives on: it once aborted (DnsClient, looking for name
    /// servers for DANE, could not open /proc/net/route), and with it went the
    /// reports of the deliveries in flight, whose messages jsmail-send then sent again.
    /// </summary>
    [Theory]
    [InlineData(24)]
    [InlineData(32)]
    [InlineData(40)]
    [InlineData(48)]
    public void Out_of_descriptors_the_deliveries_are_deferred_and_the_spawner_lives(int descriptors)
    {
        const int n = 60;
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 120 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        // slots from 1: slot 0's byte would read as a NUL ('|')
        var commands = Enumerable.Range(1, n).SelectMany(i => Command((byte)i, Message($"{500 + i}"), "s@x", $"u{i}@y.test")).ToArray();
        var output = RSpawn(commands, descriptors: descriptors); // exits 0, not killed by a signal
        var results = output[Announcement.Length..].Split('|')[..^1];
        results.Should().HaveCount(n, "every delivery is reported: " + output);
        var accepted = results.Count(r => r.Length > 1 && r[1] == 'K');
        results.Where(r => !(r.Length > 1 && r[1] == 'K')).Should().OnlyContain(r => r.Length > 1 && r[1] == 'Z', "the others are deferred");
        accepted.Should().BeGreaterThan(0);
        Count(peer.Transcript, "C: DATA").Should().Be(accepted, "a message the peer took is reported accepted, once");
    }

    [Theory]
    [InlineData("421")]
    [InlineData("EOF")]
    public void A_reused_session_the_peer_drops_at_the_next_MAIL_is_replaced_without_loss_or_duplicate(string how)
    {
        var config = new JsonObject { ["connections"] = 2 };
        if (how == "EOF") config["close_on"] = "MAIL#2";
        else config["nth"] = new JsonObject { ["MAIL#2"] = "421 closing" };
        using var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        var output = RSpawn([.. Command(0, Message("400"), "s@x", "a@y.test"), .. Command(1, Message("401", "Subject: two\n\nb\n"), "s@x", "b@y.test")]);
        // slot 0 shows as '|' (NULs are); the session serves the two in either order
        output.Should().BeOneOf(Announcement + "|" + Accepted + "\u0001" + Accepted, Announcement + "\u0001" + Accepted + "|" + Accepted);
        var transcript = peer.Transcript;
        Count(transcript, "C: DATA").Should().Be(2, "no message is sent twice");
        Count(transcript, "C: RCPT TO:<a@y.test>").Should().Be(1);
        Count(transcript, "C: RCPT TO:<b@y.test>").Should().Be(1);
        peer.Clients.Should().HaveCount(2, "the dropped session is replaced by a fresh one");
    }

    [Fact]
    public void Remotepool_0_keeps_one_process_per_delivery()
    {
        using var peer = new StubPeer(config: new JsonObject { ["connections"] = 2 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotepool", "0\n");
        var output = RSpawn([.. Command(0, Message("500"), "s@x", "a@y.test"), .. Command(1, Message("501"), "s@x", "b@y.test")]);
        output.Split(Accepted).Length.Should().Be(3, output);
        Count(peer.Transcript, "C: RSET").Should().Be(0);
        peer.Clients.Should().HaveCount(2);
    }
}
