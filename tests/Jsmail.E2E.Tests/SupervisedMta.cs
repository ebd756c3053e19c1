using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>
/// A privileged jsmail home (install.sh), its services written by
/// install-services.sh and run by a real svscan: jsmail-send and jsmail-smtpd
/// under tcpserver (as qmaild), each logging through multilog. Local mail is
/// for the domain e2e.test: the users added here by exact assignment, every
/// other name the alias catch-all (which has no .qmail-default, so it bounces).
/// remote.test is routed to the given port on 127.0.0.1.
/// </summary>
public sealed class SupervisedMta : IDisposable
{
    public const string LocalDomain = "e2e.test";
    public const string RemoteDomain = "remote.test";

    private readonly Svscan _svscan;
    public TestHome Home { get; }
    public TempDir Dir { get; } = new("jsmail-e2e");
    public int SmtpPort { get; } = Ports.Free();
    public string ServiceDir => Dir["service"];
    public string LogDir => Dir["log"];
    public string SendService => Path.Combine(ServiceDir, "jsmail-send");
    public string SmtpdService => Path.Combine(ServiceDir, "jsmail-smtpd");

    public SupervisedMta(int remotePort, IEnumerable<LocalUsers.User> users, TestHome? home = null)
    {
        Home = home ?? TestHome.Install(privileged: true);
        _svscan = new Svscan(ServiceDir, Home.Path, Dir.Path);
        Home.WriteControl("me", "mail." + LocalDomain + "\n");
        Home.WriteControl("locals", LocalDomain + "\nmail." + LocalDomain + "\n");
        Home.WriteControl("rcpthosts", LocalDomain + "\n");
        Home.WriteControl("smtproutes", $"{RemoteDomain}:127.0.0.1:{remotePort}\n");
        var alias = LocalUsers.Sh("id -u alias; id -g alias").Out.Split('\n');
        var assign = new StringBuilder();
        foreach (var u in users) assign.Append($"={u.Name}:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n");
        assign.Append($"+:alias:{alias[0]}:{alias[1]}:{Path.Combine(Home.Path, "alias")}:-::\n.\n");
        File.WriteAllText(Path.Combine(Home.Path, "users", "assign"), assign.ToString());
        var newu = Run.Process(Home.Bin("qmail-newu"), []);
        newu.ExitCode.Should().Be(0, newu.Err);
    }

    /// <summary>install-services.sh, then svscan on the service directory; waits until SMTP answers.</summary>
    public void Start()
    {
        var r = Run.Process(Repo.Script("install-services.sh"),
            ["--prefix", Home.Path, "--service-dir", ServiceDir, "--log-dir", LogDir, "--rules", Dir["tcp.smtp"],
             "--ip", "127.0.0.1", "--port", SmtpPort.ToString()]);
        r.ExitCode.Should().Be(0, r.Err + r.Out);
        _svscan.Start();
        Wait.Until(() => Ports.Listening(SmtpPort) && Log.Contains("status: local"), 60)
            .Should().BeTrue("svscan should start both services: " + Svstat());
    }

    public string Svstat() =>
        Run.Shell("svstat \"$1\" \"$2\" \"$1/log\" \"$2/log\"", args: [SendService, SmtpdService]).Out;

    public void Svc(string service, string flags)
    {
        var r = Run.Process("svc", [flags, service]);
        r.ExitCode.Should().Be(0, r.Err);
    }

    /// <summary>jsmail-send's log as multilog wrote it (TAI64N stamps stripped).</summary>
    public string Log => ReadLog(Path.Combine(LogDir, "current"));

    public string SmtpdLog => ReadLog(Path.Combine(LogDir, "smtpd", "current"));

    private static string ReadLog(string path)
    {
        if (!File.Exists(path)) return "";
        var lines = File.ReadAllLines(path, Encoding.Latin1);
        return string.Join("\n", lines.Select(l => l.StartsWith('@') && l.Length > 26 ? l[26..] : l)) + "\n";
    }

    public RunResult Swaks(string from, string to, string subject, string body = "e2e body")
    {
        var r = Run.Process("swaks", ["--server", $"127.0.0.1:{SmtpPort}", "--from", from, "--to", to,
            "--helo", "client.example", "--header", "Subject: " + subject, "--body", body], timeoutMs: 60_000);
        return r;
    }

    /// <summary>svscan and everything it runs, stopped (<see cref="Svscan"/>).</summary>
    public void Stop() => _svscan.Stop();

    public void Dispose()
    {
        Stop();
        Home.Dispose();
        Dir.Dispose();
    }
}
