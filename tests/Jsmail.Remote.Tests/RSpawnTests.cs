using System.Text;
using System.Text.Json.Nodes;
using Jsmail.RSpawn;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

public class RemoteReportTests
{
    public static TheoryData<int, string, string> Cases => new()
    {
        // wait status, qmail-remote output ('|' = NUL), report
        { 0, "r|K192.0.2.7 accepted message.\nRemote host said: 250 ok\n|", "K192.0.2.7 accepted message.\nRemote host said: 250 ok\n" },
        { 0, "h192.0.2.7 does not like recipient.\nRemote host said: 550 no\n|DGiving up on 192.0.2.7.\n|",
            "D192.0.2.7 does not like recipient.\nRemote host said: 550 no\nGiving up on 192.0.2.7.\n" },
        { 0, "s192.0.2.7 does not like recipient.\nRemote host said: 450 later\n|DGiving up on 192.0.2.7.\n|",
            "Z192.0.2.7 does not like recipient.\nRemote host said: 450 later\nGiving up on 192.0.2.7.\n" },
        { 0, "r|ZConnected to 192.0.2.7 but connection died. (#4.4.2)\n|", "ZConnected to 192.0.2.7 but connection died. (#4.4.2)\n" },
        { 0, "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|", "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n" },
        { 0, "DSorry, I couldn't find any host named x. (#5.1.2)\n|", "DSorry, I couldn't find any host named x. (#5.1.2)\n" },
        { 0, "r|", "D" },
        { 0, "", "Zqmail-remote produced no output.\n" },
        { 111 << 8, "r|K ok\n|", "ZUnable to run qmail-remote.\n" },
        { 100 << 8, "", "DUnable to run qmail-remote.\n" },
        { 1 << 8, "", "DUnable to run qmail-remote.\n" },
        { 9, "r|", "Zqmail-remote crashed.\n" },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Builds_qmail_rspawns_report(int status, string output, string report) =>
        Encoding.Latin1.GetString(RemoteReport.Build(status, Encoding.Latin1.GetBytes(output.Replace('|', '\0'))))
            .Should().Be(report);

    [Theory]
    [InlineData(24, "ZUnable to run qmail-remote.\n")]  // EMFILE
    [InlineData(9, "DUnable to run qmail-remote.\n")]   // EBADF: qmail's child exits 100 for it
    [InlineData(2, "DUnable to run qmail-remote.\n")]   // ENOENT
    [InlineData(0, "ZUnable to run qmail-remote.\n")]   // lost on the way (a close after the failure): never a bounce
    public void A_start_that_failed_is_temporary_by_its_errno_and_an_unknown_one_is_temporary(int errno, string report) =>
        Encoding.Latin1.GetString(new RemoteChannel("qmail-remote", null).StartFailed(errno)).Should().Be(report);
}

/// <summary>jsmail-rspawn speaking the spawner protocol (§4.1, §6.1, §16 items 34, 35, 54).</summary>
public class RSpawnProgramTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-rspawn");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private string Message(string id = "123", string text = "Subject: x\n\nbody\n")
    {
        File.WriteAllText(_home.Queue($"mess/0/{id}"), text);
        return $"0/{id}";
    }

    private static byte[] Command(byte slot, string mess, string sender, string recipient) =>
        [slot, .. Encoding.Latin1.GetBytes($"{mess}\0{sender}\0{recipient}\0")];

    /// <summary>Runs jsmail-rspawn on the commands; returns its output with NULs as '|'.</summary>
    private string RSpawn(byte[] commands, Dictionary<string, string?>? env = null)
    {
        File.WriteAllBytes(_dir["commands"], commands);
        env ??= new();
        env["PATH"] = _home.Path + "/bin:/usr/bin:/bin";
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private string Wrapper(string body)
    {
        File.WriteAllText(_dir["wrapper"], "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(_dir["wrapper"], (UnixFileMode)0x1ED);
        return _dir["wrapper"];
    }

    [Fact]
    public void Runs_QMAILREMOTE_with_host_sender_recipient_and_maps_its_output()
    {
        var args = _dir["args"];
        var wrapper = Wrapper($"printf '%s\\n' \"$0\" \"$@\" > {args}; cat > {args}.msg; printf 'r\\0K192.0.2.7 accepted message.\\nRemote host said: 250 ok\\n\\0'");
        var mess = Message();
        var output = RSpawn(Command(5, mess, "s@x", "u@y.example"), new() { ["QMAILREMOTE"] = wrapper });
        output.Should().Be("x\u0005K192.0.2.7 accepted message.\nRemote host said: 250 ok\n|");
        File.ReadAllText(args).Should().Be($"{wrapper}\ny.example\ns@x\nu@y.example\n");
        File.ReadAllText(args + ".msg").Should().Be("Subject: x\n\nbody\n");
    }

    [Fact]
    public void Permanent_recipient_failure_becomes_one_D_report()
    {
        var wrapper = Wrapper("printf 'h192.0.2.7 does not like recipient.\\nRemote host said: 550 no\\n\\0DGiving up on 192.0.2.7.\\n\\0'");
        RSpawn(Command(0, Message(), "s@x", "u@y"), new() { ["QMAILREMOTE"] = wrapper })
            .Should().Be("x\0D192.0.2.7 does not like recipient.\nRemote host said: 550 no\nGiving up on 192.0.2.7.\n|".Replace("\0", "|"));
    }

    [Fact]
    public void Spawner_checks_come_first()
    {
        var output = RSpawn([.. Command(1, Message(), "s@x", "nohost"), .. Command(2, "0/999", "s@x", "u@y")],
            new() { ["QMAILREMOTE"] = Wrapper("exit 0") });
        output.Should().Be("x\u0001DSorry, address must include host name. (#5.1.3)\n|\u0002Zqmail-spawn unable to open message. (#4.3.0)\n|");
    }

    [Fact]
    public void Missing_remote_program_is_reported_as_qmail_does()
    {
        RSpawn(Command(3, Message(), "s@x", "u@y"), new() { ["QMAILREMOTE"] = _dir["does-not-exist"] })
            .Should().Be("x\u0003DUnable to run qmail-remote.\n|");
    }

    [Fact]
    public void Out_of_descriptors_at_ten_and_up_is_temporary_not_a_failure_to_run_qmail_remote()
    {
        // jsmail-rspawn moves the message above fd 9 before it hands it to the child; with
        // 10..15 taken under a limit of 16 the move fails, and the delivery is retried later
        // (qmail-spawn's "unable to open message"), never a -1 passed on, whose dup2 in the
        // child would fail for good and bounce the message
        var wrapper = Wrapper("cat >/dev/null; printf 'r\\0K192.0.2.7 accepted message.\\n\\0'");
        var mess = Message();
        File.WriteAllBytes(_dir["commands"], Command(4, mess, "s@x", "u@y.example"));
        var r = Run.Process("/bin/bash", ["-c", "ulimit -n 16; for fd in 10 11 12 13 14 15; do eval \"exec $fd</dev/null\"; done; exec \"$0\" <\"$1\"",
            _home.Bin("jsmail-rspawn"), _dir["commands"]], env: new Dictionary<string, string?> { ["QMAILREMOTE"] = wrapper, ["PATH"] = _home.Path + "/bin:/usr/bin:/bin" });
        r.ExitCode.Should().Be(0, r.Err);
        Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|').Should().Be("x\u0004Zqmail-spawn unable to open message. (#4.3.0)\n|");
    }

    [Fact]
    public void Start_clears_the_timeout_table()
    {
        File.WriteAllBytes(_home.Queue("lock/tcpto"), Enumerable.Repeat((byte)7, 1024).ToArray());
        RSpawn([], new() { ["QMAILREMOTE"] = Wrapper("exit 0") }).Should().Be("x");
        File.ReadAllBytes(_home.Queue("lock/tcpto")).Should().HaveCount(1024).And.OnlyContain(b => b == 0);
    }

    [Fact]
    public void Delivers_through_the_real_jsmail_remote_to_a_peer()
    {
        using var peer = new StubPeer(config: new JsonObject { ["connections"] = 2 });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var output = RSpawn([.. Command(0, Message("124"), "s@x", "u@y.test"), .. Command(1, Message("125", "Subject: two\n\nb\n"), "s@x", "v@y.test")]);
        output.Should().StartWith("x");
        output.Split("K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|").Length.Should().Be(3, output);
        peer.Received.Should().Contain("RCPT TO:<u@y.test>").And.Contain("RCPT TO:<v@y.test>");
    }

    [Fact]
    public void Peer_breaking_the_tls_handshake_gives_a_temporary_report_and_the_message_stays_queued()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 STARTTLS" }, ["tls_garbage"] = true,
        });
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        var output = RSpawn(Command(3, Message("126"), "s@x", "u@y.test"));
        output.Should().StartWith("x\u0003ZConnected to 127.0.0.1 but the TLS handshake failed: ").And.EndWith(". (#4.7.0)\n|");
        File.Exists(_home.Queue("mess/0/126")).Should().BeTrue();
        peer.Received.Should().MatchRegex("^EHLO [^\r\n]+\r\nSTARTTLS\r\n$", "nothing is sent after a failed handshake");
    }
}
