using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// A real filter from a Debian package, started on a free loopback port with
/// a configuration the test writes, shared by the tests of a class (rspamd
/// takes long to load its rules). Every wait on it is bounded; its whole
/// process tree is killed at the end.
/// </summary>
public abstract class MilterPeer : IDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();
    protected readonly TempDir Dir;

    public int Port { get; } = Ports.Free();
    public string Socket => $"inet:127.0.0.1:{Port}";
    public string Output { get { lock (_output) return _output.ToString(); } }

    protected MilterPeer(string name) => Dir = new TempDir(name);

    protected void Start(string program, IEnumerable<string> args, int startSeconds)
    {
        _process = Run.Start(program, args, redirect: Redirect.Error | Redirect.Output);
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        if (!Wait.Until(() => Ports.Listening(Port) || _process.HasExited, startSeconds, pollMs: 200) || _process.HasExited)
            throw new InvalidOperationException($"{program} did not start listening on {Port}: {Output}");
    }

    public void Dispose()
    {
        try { if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process?.WaitForExit(10_000);
        _process?.Dispose();
        Dir.Dispose();
    }
}

/// <summary>
/// rspamd's proxy worker in milter mode, scanning itself (self_scan): no
/// Redis, no network lookups (DNS goes to a closed port), no Hyperscan
/// compilation, the stock rules, and thresholds high enough that only GTUBE
/// (a forced reject) is refused. milter_headers adds its extended headers.
/// </summary>
public sealed class RspamdMilter : MilterPeer
{
    public RspamdMilter() : base("jsmail-rspamd")
    {
        Directory.CreateDirectory(Dir["local.d"]);
        Directory.CreateDirectory(Dir["db"]);
        Directory.CreateDirectory(Dir["run"]);
        File.WriteAllText(Dir["rspamd.conf"], $$"""
            .include "$CONFDIR/common.conf"
            options {
                pidfile = "$RUNDIR/rspamd.pid";
                .include "$CONFDIR/options.inc"
                disable_hyperscan = true;
                dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }
            }
            logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "notice"; }
            worker "rspamd_proxy" {
                bind_socket = "127.0.0.1:{{Port}}";
                milter = yes;
                timeout = 120s;
                count = 1;
                upstream "local" { default = yes; self_scan = yes; }
            }

            """);
        File.WriteAllText(Dir["local.d/milter_headers.conf"], "extended_spam_headers = true;\nskip_local = false;\nskip_authenticated = false;\n");
        File.WriteAllText(Dir["local.d/actions.conf"], "reject = 150;\nadd_header = 100;\ngreylist = 90;\n");
        File.WriteAllText(Dir["local.d/fuzzy_check.conf"], "enabled = false;\n");
        Start("/usr/bin/rspamd", ["-f", "-i", "-u", "root", "-g", "root", "-c", Dir["rspamd.conf"],
            "--var=LOCAL_CONFDIR=" + Dir.Path, "--var=DBDIR=" + Dir["db"], "--var=RUNDIR=" + Dir["run"], "--var=LOGDIR=" + Dir.Path],
            startSeconds: 900);
    }

    public string Log => File.Exists(Dir["rspamd.log"]) ? File.ReadAllText(Dir["rspamd.log"]) : "";
}

/// <summary>OpenDKIM signing for example.com with a test key (selector "test"); the public key for the verifier.</summary>
public sealed class OpenDkimMilter : MilterPeer
{
    public string PublicKey { get; }
    /// <summary>A key OpenDKIM does not sign with: a DNS server publishing it must make verification fail.</summary>
    public string OtherKey { get; }
    public const string Record = "test._domainkey.example.com";

    public OpenDkimMilter() : base("jsmail-opendkim")
    {
        PublicKey = DkimVerifier.MakeKey(Dir["key.pem"], traditional: true);
        OtherKey = DkimVerifier.MakeKey(Dir["other.pem"]);
        File.SetUnixFileMode(Dir["key.pem"], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Dir["opendkim.conf"], $"""
            Mode s
            Domain example.com
            Selector test
            KeyFile {Dir["key.pem"]}
            Socket inet:{Port}@127.0.0.1
            Syslog no
            Background no
            PidFile {Dir["pid"]}
            RequireSafeKeys no
            Canonicalization relaxed/simple
            InternalHosts 127.0.0.1

            """);
        Start("/usr/sbin/opendkim", ["-f", "-x", Dir["opendkim.conf"]], startSeconds: 120);
    }
}
