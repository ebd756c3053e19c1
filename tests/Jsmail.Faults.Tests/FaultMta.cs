using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Faults.Tests;

/// <summary>
/// A privileged jsmail home run as a site runs it in server mode: svscan over
/// the service directories install-services.sh writes with --server-mode and
/// --queue-service (jsmail-send's tree, jsmail-smtpd-server, jsmail-queued,
/// each with multilog), so that supervise restarts whatever dies. Local
/// domain e2e.test: the mailboxes named here by exact assignment (Maildirs
/// owned by nobody), every other name a catch-all without .qmail-default,
/// which bounces. remote.test is routed to the peer on loopback.
/// </summary>
public sealed class FaultMta : IDisposable
{
    public const string LocalDomain = "e2e.test";
    public const string RemoteDomain = "remote.test";

    private readonly Svscan _svscan;
    private readonly List<string> _mounts = [];
    public TestHome Home { get; }
    public TempDir Dir { get; } = new("jsmail-faults");
    public int SmtpPort { get; } = Ports.Free();
    public string ServiceDir => Dir["service"];
    public string Service(string name) => Path.Combine(ServiceDir, name);
    public string SendService => Service("jsmail-send");
    public string Bin => Path.Combine(Home.Path, "bin");
    public string Mailbox(string name) => Path.Combine(Home.Path, "mail", name);
    public string Maildir(string name) => Path.Combine(Mailbox(name), "Maildir");
    private readonly string[] _mailboxes;
    private readonly (string Uid, string Gid) _nobody;

    public FaultMta(int peerPort, string[] mailboxes, int timeoutRemote = 30)
    {
        _mailboxes = mailboxes;
        Home = TestHome.Install(privileged: true);
        _svscan = new Svscan(ServiceDir, Home.Path, Dir.Path);
        Home.WriteControl("me", "mail." + LocalDomain + "\n");
        Home.WriteControl("locals", LocalDomain + "\nmail." + LocalDomain + "\n");
        Home.WriteControl("rcpthosts", LocalDomain + "\n" + RemoteDomain + "\n");
        Home.WriteControl("smtproutes", $"{RemoteDomain}:127.0.0.1:{peerPort}\n");
        Home.WriteControl("timeoutremote", timeoutRemote + "\n");
        var id = Sh("id -u nobody; id -g nobody").Out.Split('\n');
        _nobody = (id[0], id[1]);
        Directory.CreateDirectory(Path.Combine(Home.Path, "mail"));
        var assign = new StringBuilder();
        foreach (var name in mailboxes)
        {
            Directory.CreateDirectory(Mailbox(name));
            assign.Append($"={name}:nobody:{_nobody.Uid}:{_nobody.Gid}:{Mailbox(name)}:::\n");
        }
        assign.Append($"+:nobody:{_nobody.Uid}:{_nobody.Gid}:{Path.Combine(Home.Path, "mail")}:-::\n.\n");
        File.WriteAllText(Path.Combine(Home.Path, "users", "assign"), assign.ToString());
        var newu = Run.Process(Home.Bin("qmail-newu"), []);
        newu.ExitCode.Should().Be(0, newu.Err);
    }

    /// <summary>A tmpfs of <paramref name="megabytes"/> on <paramref name="dir"/>, keeping what the directory held, its owner and mode (before Start).</summary>
    public void MountTmpfs(string dir, int megabytes)
    {
        Sh("""
            set -e
            mv "$1" "$1.orig"
            mkdir "$1"
            mount -t tmpfs -o size="$2"m tmpfs "$1"
            cp -a "$1.orig/." "$1/"
            chown --reference="$1.orig" "$1"
            chmod --reference="$1.orig" "$1"
            rm -rf "$1.orig"
            """, dir, megabytes.ToString());
        _mounts.Add(dir);
    }

    /// <summary>install-services.sh, optional changes to the run files, then svscan; waits until every daemon answers.</summary>
    public void Start(Action<FaultMta>? beforeScan = null)
    {
        foreach (var name in _mailboxes)
            Sh("\"$1/maildirmake\" \"$2/Maildir\" && chown -R nobody: \"$2\"", Bin, Mailbox(name));
        var r = Run.Process(Repo.Script("install-services.sh"),
            ["--prefix", Home.Path, "--service-dir", ServiceDir, "--log-dir", Dir["log"], "--rules", Dir["tcp.smtp"],
             "--ip", "127.0.0.1", "--port", SmtpPort.ToString(), "--server-mode", "--queue-service"]);
        r.ExitCode.Should().Be(0, r.Err + r.Out);
        beforeScan?.Invoke(this);
        _svscan.Start();
        Wait.Until(Ready, 120).Should().BeTrue("svscan starts every service: " + Svstat());
    }

    /// <summary>
    /// Every daemon of the site runs and answers: SMTP listens, jsmail-queued's
    /// socket exists and jsmail-send's tree (send, todo, lspawn, rspawn) runs.
    /// </summary>
    public bool Ready()
    {
        if (!Ports.Listening(SmtpPort) || !File.Exists(Path.Combine(Home.Path, "queued", "socket"))) return false;
        var running = Processes.Programs(Bin).Select(p => Path.GetFileName(p.Exe)).ToHashSet();
        return Daemons.All(running.Contains);
    }

    /// <summary>The long-running daemons of a server-mode site.</summary>
    public static readonly string[] Daemons =
        ["jsmail-send", "jsmail-todo", "jsmail-lspawn", "jsmail-rspawn", "jsmail-queued", "jsmail-smtpd-server"];

    /// <summary>The pids of the running copies of a daemon (by executable).</summary>
    public List<int> Pids(string daemon) =>
        Processes.Programs(Bin).Where(p => Path.GetFileName(p.Exe) == daemon).Select(p => p.Pid).ToList();

    /// <summary>Inserts a line before the exec of a service's run file (an administrator's change, such as a ulimit).</summary>
    public void AddToRun(string service, string line)
    {
        var run = Path.Combine(Service(service), "run");
        var lines = File.ReadAllLines(run).ToList();
        lines.Insert(lines.FindIndex(l => l.StartsWith("exec ")), line);
        File.WriteAllLines(run, lines);
    }

    public string Svstat() => Run.Shell("svstat \"$1\"/*", args: ServiceDir).Out;

    public void Svc(string service, string flags)
    {
        var r = Run.Process("svc", [flags, Service(service)]);
        r.ExitCode.Should().Be(0, r.Err);
    }

    /// <summary>
    /// jsmail-send's log as multilog wrote it: the files multilog rotated
    /// out (named by TAI64N stamps, so sorted by time) and then current. A
    /// flow of retries outgrows multilog's 99999-byte current, and a caller
    /// that remembers a length must find the log no shorter later.
    /// </summary>
    public string SendLog => ReadLog(Dir["log"]);

    /// <summary>The lines of every service's log (rotated files and current) that contain <paramref name="text"/> (ASCII case ignored).</summary>
    public List<string> LogLines(string text) =>
        Directory.EnumerateFiles(Dir["log"], "current", SearchOption.AllDirectories)
            .SelectMany(f => ReadLog(Path.GetDirectoryName(f)!).Split('\n'))
            .Where(l => l.Contains(text, StringComparison.OrdinalIgnoreCase)).ToList();

    static string ReadLog(string dir)
    {
        if (!Directory.Exists(dir)) return "";
        var files = Directory.EnumerateFiles(dir, "@*").Order(StringComparer.Ordinal).ToList();
        if (File.Exists(Path.Combine(dir, "current"))) files.Add(Path.Combine(dir, "current"));
        return string.Concat(files.Select(f => File.ReadAllText(f, Encoding.Latin1)));
    }

    public static RunResult Sh(string script, params string[] args)
    {
        var r = Run.Shell(script, args: args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{script}: {r.Err}");
        return r;
    }

    /// <summary>svscan and everything it runs (<see cref="Svscan"/>), then the mounts.</summary>
    public void Stop()
    {
        _svscan.Stop();
        foreach (var m in _mounts) Run.Shell("umount -l \"$1\"", args: m);
        _mounts.Clear();
    }

    public void Dispose()
    {
        Stop();
        Home.Dispose();
        Dir.Dispose();
    }
}
