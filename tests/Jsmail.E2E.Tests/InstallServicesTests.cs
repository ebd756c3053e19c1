using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>What install-services.sh writes, and what it refuses (the services themselves run in ServiceTests).</summary>
public sealed class InstallServicesTests
{
    private static RunResult InstallServices(params string[] args) =>
        Run.Process(Repo.Script("install-services.sh"), args, timeoutMs: 60_000);

    [Fact]
    public void Refuses_a_directory_that_is_not_an_installed_home()
    {
        using var dir = new TempDir("jsmail-e2e-svc");
        var r = InstallServices("--prefix", dir.Path, "--single-user");
        r.ExitCode.Should().Be(100);
        r.Err.Should().Contain("is not a jsmail home");
        Directory.Exists(Path.Combine(dir.Path, "supervise")).Should().BeFalse();
        InstallServices("--bogus").ExitCode.Should().Be(100);
    }

    [Fact]
    public void A_privileged_home_gets_qmails_layout_with_accounts_and_a_relay_rule_for_loopback()
    {
        using var home = TestHome.Install(privileged: true);
        using var dir = new TempDir("jsmail-e2e-svc");
        var rules = dir["tcp.smtp"];
        var r = InstallServices("--prefix", home.Path, "--log-dir", dir["log"], "--rules", rules, "--port", "2525");
        r.ExitCode.Should().Be(0, r.Err);

        var send = Path.Combine(home.Path, "supervise", "jsmail-send");
        var smtpd = Path.Combine(home.Path, "supervise", "jsmail-smtpd");
        foreach (var d in new[] { send, smtpd, Path.Combine(send, "log"), Path.Combine(smtpd, "log") })
            ((int)File.GetUnixFileMode(d) & 0x3FF).Should().Be(0x3ED, d + " is 1755");
        File.ReadAllText(Path.Combine(send, "run")).Should()
            .Contain($"exec env - PATH=\"{home.Path}/bin:").And.Contain("jsmail-start \"`cat '" + home.Control("defaultdelivery") + "'`\"");
        File.ReadAllText(Path.Combine(smtpd, "run")).Should()
            .Contain("tcpserver -v -R -H -l \"$LOCAL\" -x '" + rules + ".cdb'")
            .And.Contain("-u \"$QMAILDUID\" -g \"$NOFILESGID\" '0' '2525' '" + home.Bin("jsmail-smtpd") + "'");
        File.ReadAllText(Path.Combine(send, "log", "run")).Should().Contain($"exec setuidgid qmaill multilog t '{dir["log"]}'");
        File.ReadAllText(Path.Combine(smtpd, "log", "run")).Should().Contain($"exec setuidgid qmaill multilog t '{dir["log"]}/smtpd'");
        File.ReadAllText(home.Control("defaultdelivery")).Should().Be("./Maildir/\n");
        File.ReadAllText(home.Control("concurrencyincoming")).Should().Be("20\n");
        LocalUsers.Sh("stat -c %U \"$1\" \"$1/smtpd\"", dir["log"]).Out.Should().Be("qmaill\nqmaill\n");

        // the compiled rules: 127. sets RELAYCLIENT to the empty string (tcprules' +VAR=value)
        var cdb = Run.Process("cdb", ["-q", rules + ".cdb", "127."]);
        cdb.Out.Should().Be("+RELAYCLIENT=\0");

        // a re-run keeps the administrator's rules and control files and compiles the rules again
        File.WriteAllText(rules, "127.:allow,RELAYCLIENT=\"\",DATABYTES=\"1000\"\n:deny\n");
        home.WriteControl("defaultdelivery", "./Mailbox\n");
        InstallServices("--prefix", home.Path, "--log-dir", dir["log"], "--rules", rules, "--port", "2525").ExitCode.Should().Be(0);
        Run.Process("cdb", ["-q", rules + ".cdb", "127."]).Out.Should().Be("+RELAYCLIENT=\0+DATABYTES=1000\0");
        File.ReadAllText(home.Control("defaultdelivery")).Should().Be("./Mailbox\n");
    }

    [Fact]
    public void A_single_user_home_gets_services_that_switch_no_account()
    {
        using var home = TestHome.Install(privileged: false);
        using var dir = new TempDir("jsmail-e2e-svc");
        var r = InstallServices("--prefix", home.Path, "--single-user", "--service-dir", dir["service"], "--ip", "127.0.0.1");
        r.ExitCode.Should().Be(0, r.Err);
        var smtpd = File.ReadAllText(Path.Combine(home.Path, "supervise", "jsmail-smtpd", "run"));
        smtpd.Should().NotContain("qmaild").And.NotContain("-u ").And.Contain($"-x '{home.Path}/etc/tcp.smtp.cdb'");
        File.ReadAllText(Path.Combine(home.Path, "supervise", "jsmail-send", "log", "run")).Should()
            .Contain($"exec multilog t '{home.Path}/log'").And.NotContain("setuidgid");
        new FileInfo(Path.Combine(dir["service"], "jsmail-send")).LinkTarget.Should().Be(Path.Combine(home.Path, "supervise", "jsmail-send"));
        new FileInfo(Path.Combine(dir["service"], "jsmail-smtpd")).LinkTarget.Should().Be(Path.Combine(home.Path, "supervise", "jsmail-smtpd"));
    }

    [Fact]
    public void Server_mode_writes_a_service_that_serves_smtp_without_tcpserver()
    {
        using var home = TestHome.Install(privileged: false);
        var port = Ports.Free();
        var r = InstallServices("--prefix", home.Path, "--single-user", "--server-mode", "--ip", "127.0.0.1", "--port", port.ToString());
        r.ExitCode.Should().Be(0, r.Err);
        var run = Path.Combine(home.Path, "supervise", "jsmail-smtpd", "run");
        File.ReadAllText(run).Should().NotContain("tcpserver")
            .And.Contain($"exec jsmail-smtpd --listen '127.0.0.1:{port}' --rules '{home.Path}/etc/tcp.smtp.cdb' --local-host \"$LOCAL\"")
            .And.Contain("--single-user");
        InstallServices("--prefix", home.Path, "--single-user", "--server-mode", "--port", "smtps").ExitCode.Should().Be(100);

        // the run script as supervise runs it: it answers SMTP, and SIGTERM ends it with 0
        using var server = Run.Start("/bin/sh", [run], redirect: Redirect.Output | Redirect.Error);
        try
        {
            Wait.Until(() => Ports.Listening(port) || server.HasExited, 30).Should().BeTrue();
            var greeting = Run.Process("swaks", ["--server", $"127.0.0.1:{port}", "--quit-after", "CONNECT"]);
            greeting.Out.Should().Contain("<-  220 ");
        }
        finally
        {
            Jsmail.Common.Os.Libc.Kill(server.Id, 15);
            server.WaitForExit(60_000).Should().BeTrue();
        }
        server.ExitCode.Should().Be(0);
    }
}
