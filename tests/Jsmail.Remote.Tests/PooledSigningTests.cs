using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-rspawn's pool with control/remoteprocessors naming only the shipped
/// DKIM signer: it signs in-process and stays pooled, its signatures are
/// jsmail-dkimsign's (checked by python3-dkim and against the program's own
/// output), its failures read as jsmail-remote's; any other processor in the
/// list sends the delivery back to one jsmail-remote per message.
/// </summary>
public class PooledSigningTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-poolsign");
    private readonly Dictionary<string, string> _dns = new();
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private const string Announcement = "x\u00ffJrecipients=1000|";
    private const string Accepted = "K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    /// <summary>Keys for example.com (the From domain) and sender.test (an envelope sender's), in control/dkimkeys.</summary>
    private void Keys()
    {
        Directory.CreateDirectory(_home.Control("dkim"));
        _dns["s1._domainkey.example.com"] = DkimVerifier.MakeKey(_home.Control("dkim/example.pem"));
        _dns["s2._domainkey.sender.test"] = DkimVerifier.MakeKey(_home.Control("dkim/sender.pem"));
        _home.WriteControl("dkimkeys", "example.com:s1:control/dkim/example.pem\nsender.test:s2:control/dkim/sender.pem\n");
    }

    /// <summary>Message i: From example.com, or (every third) a From with no domain, signed for the envelope sender's.</summary>
    private static string Text(int i) => i % 3 == 2
        ? $"From: nobody\nTo: u{i}@y.test\nSubject: m{i}\n\nbody {i}\n.dot\n"
        : $"From: Alice <alice@example.com>\nTo: u{i}@y.test\nSubject: m{i}\nDate: Sat, 05 Dec 2026 12:00:00 +0000\n\nbody  {i}\t\n.dot\n\n";

    private string Queue(int i)
    {
        File.WriteAllText(_home.Queue($"mess/0/{700 + i}"), Text(i), Encoding.Latin1);
        return $"0/{700 + i}";
    }

    private static byte[] Command(byte slot, string mess, string sender, string recipient) =>
        [slot, .. Encoding.Latin1.GetBytes($"{mess}\0{sender}\0{recipient}\0")];

    private static string Sender(int i) => i % 3 == 2 ? "s@sender.test" : "alice@example.com";

    private byte[] Commands(int n) => Enumerable.Range(0, n).SelectMany(i => Command((byte)i, Queue(i), Sender(i), $"u{i}@y.test")).ToArray();

    /// <summary>Runs jsmail-rspawn on the commands; its output with NULs as '|'.</summary>
    private string RSpawn(byte[] commands, bool compat = false)
    {
        File.WriteAllBytes(_dir["commands"], commands);
        var env = new Dictionary<string, string?>
        {
            ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_SPAWN_PROTOCOL"] = "jsmail1", ["JSMAIL_COMPAT"] = compat ? "qmail" : null,
        };
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    /// <summary>jsmail-dkimsign's output for message i, as jsmail-remote would run it (fd 0 the file, $SENDER set).</summary>
    private byte[] ProgramSigned(int i)
    {
        File.WriteAllText(_dir["in"], Text(i), Encoding.Latin1);
        var r = Run.Shell("exec \"$1\" <\"$2\"", env: new Dictionary<string, string?> { ["SENDER"] = Sender(i) },
            timeoutMs: 60_000, args: [_home.Bin("jsmail-dkimsign"), _dir["in"]]);
        r.ExitCode.Should().Be(0, r.Err);
        return r.Stdout;
    }

    /// <summary>Each message the peer received, by Subject: the DATA section, dots unstuffed.</summary>
    private static Dictionary<string, string> Messages(string received)
    {
        var found = new Dictionary<string, string>();
        for (var at = received.IndexOf("DATA\r\n", StringComparison.Ordinal); at >= 0; at = received.IndexOf("DATA\r\n", at, StringComparison.Ordinal))
        {
            var end = received.IndexOf("\r\n.\r\n", at, StringComparison.Ordinal);
            end.Should().BeGreaterThan(at, received);
            var lines = received[(at + 6)..(end + 2)].Split("\r\n").Select(l => l.StartsWith('.') ? l[1..] : l);
            var data = string.Join("\r\n", lines);
            found.Add(Regex.Match(data, @"^Subject: (m\d+)\r$", RegexOptions.Multiline).Groups[1].Value, data);
            at = end;
        }
        return found;
    }

    /// <summary>The DKIM-Signature field at the start of <paramref name="message"/> (CRLF lines), and the rest.</summary>
    private static (string Field, string Message) SplitField(string message)
    {
        message.Should().StartWith("DKIM-Signature: ");
        var end = 0;
        do end = message.IndexOf("\r\n", end, StringComparison.Ordinal) + 2;
        while (message[end] == '\t');
        return (message[..end], message[end..]);
    }

    /// <summary>The field with its time and signature values replaced: what must be the same at any second.</summary>
    private static string Timeless(string field) =>
        Regex.Replace(Regex.Replace(field, @"\tt=\d+;", "\tt=T;"), @"\tb=[\s\S]*$", "\tb=B");

    private static string Crlf(string text) => Regex.Replace(text, "\r\n|\r|\n", "\r\n");

    [Fact]
    public void Signing_in_process_stays_pooled_and_signs_as_jsmail_dkimsign()
    {
        const int n = 6;
        Keys();
        _home.WriteControl("remoteprocessors", "# the shipped signer only: signed in-process\nbin/jsmail-dkimsign\n");
        _home.WriteControl("remotesessions", "1\n");
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 60 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");

        var output = RSpawn(Commands(n));
        output.Split(Accepted).Length.Should().Be(n + 1, output);
        peer.Clients.Should().HaveCount(1, "all of them went over one pooled session");

        var received = Messages(peer.Received);
        received.Should().HaveCount(n);
        for (var i = 0; i < n; i++)
        {
            var (field, rest) = SplitField(received[$"m{i}"]);
            rest.Should().Be(Crlf(Text(i)), "the message itself is unchanged");
            var selector = i % 3 == 2 ? "s2._domainkey.sender.test" : "s1._domainkey.example.com";
            DkimVerifier.Verify(Encoding.Latin1.GetBytes(received[$"m{i}"]), _dns).Should().Be($"pass {selector}");

            var (programField, programRest) = SplitField(Crlf(Encoding.Latin1.GetString(ProgramSigned(i))));
            programRest.Should().Be(rest);
            Timeless(field).Should().Be(Timeless(programField), "the same key, h=, bh= and layout as jsmail-dkimsign's");
            var time = Regex.Match(field, @"\tt=(\d+);").Groups[1].Value;
            if (time == Regex.Match(programField, @"\tt=(\d+);").Groups[1].Value)
                field.Should().Be(programField, "signed in the same second, the signature is the same too (RSA PKCS#1 v1.5 is deterministic)");
        }
    }

    [Fact]
    public void A_message_no_key_applies_to_goes_unchanged_and_pooled()
    {
        Keys();
        _home.WriteControl("remoteprocessors", "bin/jsmail-dkimsign\n");
        _home.WriteControl("remotesessions", "1\n");
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 60 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        const string text = "From: someone@other.test\nSubject: m0\n\nplain\n";
        File.WriteAllText(_home.Queue("mess/0/790"), text);
        File.WriteAllText(_home.Queue("mess/0/791"), text.Replace("m0", "m1"));
        var output = RSpawn([.. Command(0, "0/790", "s@other.test", "a@y.test"), .. Command(1, "0/791", "", "b@y.test")]);
        output.Split(Accepted).Length.Should().Be(3, output);
        peer.Clients.Should().HaveCount(1);
        var received = Messages(peer.Received);
        received["m0"].Should().Be(Crlf(text));
        received["m1"].Should().Be(Crlf(text.Replace("m0", "m1")));
    }

    [Fact]
    public void With_JSMAIL_COMPAT_qmail_nothing_is_signed()
    {
        const int n = 2;
        Keys();
        _home.WriteControl("remoteprocessors", "bin/jsmail-dkimsign\n");
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 60, ["connections"] = n });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var output = RSpawn(Commands(n), compat: true);
        output.Split(Accepted).Length.Should().Be(n + 1, output);
        peer.Clients.Should().HaveCount(n, "qmail-rspawn's way: one remote program, one session, per message");
        var received = Messages(peer.Received);
        for (var i = 0; i < n; i++) received[$"m{i}"].Should().Be(Crlf(Text(i)));
    }

    /// <summary>The report of slot 0 for one message whose key cannot be read, pooled or (control/remotepool 0) per process.</summary>
    private string UnreadableKeyReport(bool pooled)
    {
        _home.WriteControl("remotepool", pooled ? "1\n" : "0\n");
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 3 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var output = RSpawn(Command(0, Queue(0), Sender(0), "u0@y.test"));
        peer.Clients.Should().BeEmpty("signing fails before any connection");
        File.ReadAllText(_home.Queue("mess/0/700"), Encoding.Latin1).Should().Be(Text(0), "the queued message is never touched");
        return output;
    }

    [Fact]
    public void A_key_that_cannot_be_read_defers_with_jsmail_remotes_report()
    {
        Directory.CreateDirectory(_home.Control("dkim"));
        _home.WriteControl("dkimkeys", "example.com:s1:control/dkim/missing.pem\n");
        _home.WriteControl("remoteprocessors", "bin/jsmail-dkimsign\n");
        var pooled = UnreadableKeyReport(pooled: true);
        // the .NET reason after the path is a resource key in the published programs (UseSystemResourceKeys)
        pooled.Should().StartWith(Announcement + '|' + "ZSend-time processor bin/jsmail-dkimsign failed (exit code 111). (#4.3.0)\n"
            + $"It said: jsmail-dkimsign: unable to read key {_home.Control("dkim/missing.pem")}: ").And.EndWith("\n|");
        UnreadableKeyReport(pooled: false).Should().Be(pooled, "the report (and so jsmail-send's log line and deferral) is jsmail-remote's");
    }

    [Fact]
    public void With_another_processor_in_the_list_each_message_runs_jsmail_remote()
    {
        const int n = 3;
        Keys();
        _home.WriteControl("remoteprocessors", "bin/jsmail-dkimsign\ncat\n");
        _home.WriteControl("remotesessions", "1\n");
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 60, ["connections"] = n });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");

        var output = RSpawn(Commands(n));
        output.Split(Accepted).Length.Should().Be(n + 1, output);
        peer.Clients.Should().HaveCount(n, "one jsmail-remote, one session, per message");
        peer.Transcript.Count(l => l.StartsWith("C: RSET", StringComparison.Ordinal)).Should().Be(0);
        var received = Messages(peer.Received);
        for (var i = 0; i < n; i++)
            DkimVerifier.Verify(Encoding.Latin1.GetBytes(received[$"m{i}"]), _dns).Should().StartWith("pass ");
    }
}
