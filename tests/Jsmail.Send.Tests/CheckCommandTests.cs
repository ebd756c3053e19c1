using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>`jsmail check` (docs/jsmail.md) on a privileged install made by the real install.sh, clean and with each fault planted.</summary>
public class CheckCommandTests
{
    private static RunResult Check(TestHome home) => Run.Process(home.Bin("jsmail"), ["check"], timeoutMs: 60_000);

    [Fact]
    public void A_fresh_privileged_install_passes_and_each_planted_fault_is_found()
    {
        using var home = TestHome.Install(privileged: true);
        home.WriteControl("tlsrptorganization", "Example Org\n"); // jsmail-tlsrpt's (docs/tls-reporting.md): known, no warning
        home.WriteControl("tlsrptcontact", "tls-reports@example.org\n");
        var clean = Check(home);
        clean.ExitCode.Should().Be(0, clean.Out + clean.Err);
        clean.Out.Should().Contain("0 error(s)").And.NotContain("tlsrpt");

        File.SetUnixFileMode(home.Queue("mess"), (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(home.Queue("tlsrpt"), (UnixFileMode)Convert.ToInt32("755", 8));
        Directory.Delete(home.Queue("info/5"));
        File.SetUnixFileMode(home.Bin("jsmail-queue"), (UnixFileMode)Convert.ToInt32("711", 8));
        home.WriteControl("concurrencyremote", "20\n");
        home.WriteControl("smtproutes", "a.example:relay.example\nbroken line\nb.example:relay.example:25x\n");
        home.WriteControl("concurencylocal", "5\n");
        var users = Path.Combine(home.Path, "users");
        File.WriteAllText(Path.Combine(users, "cdb"), "");
        File.SetLastWriteTimeUtc(Path.Combine(users, "cdb"), DateTime.UtcNow.AddHours(-1));
        File.WriteAllText(Path.Combine(users, "assign"), "=joe:joe:1000:1000:/home/joe:::\n.\n");

        var r = Check(home);
        r.ExitCode.Should().Be(1, r.Out);
        r.Out.Should().Contain("error: queue/mess: mode 0755, expected 0750");
        r.Out.Should().Contain("error: queue/info/5: missing directory");
        r.Out.Should().Contain("error: bin/jsmail-queue: mode 0711, expected 4711");
        r.Out.Should().Contain("error: control/smtproutes:2: no ':' in 'broken line'");
        r.Out.Should().Contain("error: control/smtproutes:3: bad port");
        r.Out.Should().NotContain("smtproutes:1");
        r.Out.Should().Contain("warning: control/concurencylocal: unknown control file");
        r.Out.Should().Contain("error: users/cdb is older than users/assign");
        r.Out.Should().Contain("error: queue/tlsrpt: mode 0755, expected 0750");
        r.Out.Should().Contain("7 error(s), 1 warning(s)");
    }

    [Fact]
    public void A_number_file_with_a_bad_line_and_a_queue_file_owned_by_the_wrong_account_are_errors()
    {
        using var home = TestHome.Install(privileged: true);
        home.WriteControl("databytes", "10 MB\n");
        Run.Process("chown", ["root", home.Queue("lock/sendmutex")]).ExitCode.Should().Be(0);
        var r = Check(home);
        r.ExitCode.Should().Be(1);
        r.Out.Should().Contain("error: control/databytes:1: not a number: '10 MB'");
        r.Out.Should().MatchRegex("error: queue/lock/sendmutex: owner uid 0, expected [0-9]+");
    }
}
