using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.Common.Os;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// jsmail-smtpd in server mode for a test: started through the home's
/// bin/jsmail-smtpd with long options (so jsmail-smtpd's exec is part of every
/// test), on free loopback ports, with rules compiled by the real tcprules.
/// Its log (stderr) is kept; every wait on it is bounded.
/// </summary>
public sealed class ServerModeServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public int Port { get; }
    public int Pid => _process.Id;
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <param name="rules">tcprules source lines, or null for no --rules (or <paramref name="rulesCdb"/>)</param>
    /// <param name="rulesCdb">a rules CDB made otherwise</param>
    /// <param name="listen">extra --listen values beyond 127.0.0.1:PORT (use {port}-free addresses)</param>
    /// <param name="singleUser">the home is a single-user one (the test's user owns its queue): no change to qmaild</param>
    public ServerModeServer(string home, string scratch, string? rules = null, IEnumerable<string>? options = null,
        IEnumerable<string>? listen = null, IEnumerable<string>? smtpdArgs = null, IDictionary<string, string?>? env = null,
        bool singleUser = true, string? rulesCdb = null)
    {
        Port = Ports.Free();
        var args = new List<string> { "--listen", $"127.0.0.1:{Port}", "--local-host", "mx.example" };
        if (singleUser) args.Add("--single-user");
        foreach (var l in listen ?? []) args.AddRange(["--listen", l]);
        if (rules != null) args.AddRange(["--rules", CompileRules(rules, scratch)]);
        if (rulesCdb != null) args.AddRange(["--rules", rulesCdb]);
        args.AddRange(options ?? []);
        var extra = smtpdArgs?.ToList() ?? [];
        if (extra.Count > 0) { args.Add("--"); args.AddRange(extra); }

        var environment = SmtpdHome.BaseEnvironment(compat: false).ToDictionary(kv => kv.Key, _ => (string?)null);
        if (env != null) foreach (var (k, v) in env) environment[k] = v;
        _process = Run.Start(Path.Combine(home, "bin", "jsmail-smtpd"), args, environment, redirect: Redirect.Error | Redirect.Output);
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var started = Wait.Until(() => Log.Contains("jsmail-smtpd-server: listening on") || _process.HasExited, 30, pollMs: 20);
        if (!started || _process.HasExited) throw new InvalidOperationException("jsmail-smtpd-server did not start: " + Log);
        // every --listen is bound before the first "listening on" line is written
    }

    /// <summary>tcprules FILE.cdb FILE.tmp &lt; rules: the CDB tcpserver -x reads.</summary>
    public static string CompileRules(string rules, string scratch)
    {
        var cdb = Path.Combine(scratch, "rules-" + Guid.NewGuid().ToString("N") + ".cdb");
        var r = Run.Process("tcprules", [cdb, cdb + ".tmp"], Encoding.ASCII.GetBytes(rules));
        if (r.ExitCode != 0) throw new InvalidOperationException("tcprules: " + r.Err);
        return cdb;
    }

    public bool WaitForLog(string text, int seconds = 30) => Wait.Until(() => Log.Contains(text), seconds, pollMs: 20);

    /// <summary>Sends the whole conversation, half-closes, and reads until the server closes.</summary>
    public byte[] Talk(byte[] conversation, IPAddress? address = null, int? port = null) =>
        Talk(address ?? IPAddress.Loopback, port ?? Port, conversation);

    public static byte[] Talk(IPAddress address, int port, byte[] conversation)
    {
        using var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.ReceiveTimeout = 30_000;
        s.SendTimeout = 30_000;
        s.Connect(address, port);
        var received = new MemoryStream();
        // Read while sending: a long conversation must not fill both directions' buffers.
        var reader = Task.Run(() =>
        {
            var buf = new byte[65536];
            try
            {
                int n;
                while ((n = s.Receive(buf)) > 0) received.Write(buf, 0, n);
            }
            catch (SocketException) { } // a reset after the server's close: what came before stands
        });
        try
        {
            s.Send(conversation);
            s.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException) { } // the server may close before reading everything: that is its answer
        reader.Wait(60_000).Should().BeTrue("the server ends the conversation");
        return received.ToArray();
    }

    public string Talk(string conversation) => Encoding.Latin1.GetString(Talk(Encoding.Latin1.GetBytes(conversation)));

    /// <summary>
    /// The Server side of <see cref="SmtpdDriver"/>: one conversation with a
    /// server started for it, so that it reads the home's controls as they are
    /// now. What the per-connection program would take from its environment
    /// comes from the rule for 127.0.0.1 (written with CdbWriter in tcprules'
    /// record format, since a test's values may hold bytes no tcprules line
    /// can), TCPLOCALHOST from --local-host; jsmail-smtpd's arguments follow
    /// "--". The result is the per-connection program's: the replies, the
    /// session's exit code from the server's "end" line, and the session's
    /// own log lines.
    /// </summary>
    public static RunResult TalkOnce(string home, byte[] conversation, IDictionary<string, string?> env, IEnumerable<string>? args)
    {
        var record = new MemoryStream();
        foreach (var (name, value) in env)
        {
            if (value == null || name is "TCPREMOTEIP" or "TCPLOCALIP" or "TCPLOCALHOST") continue;
            record.Write(Encoding.UTF8.GetBytes($"+{name}={value}\0"));
        }
        using var scratch = new TempDir("jsmail-server-talk");
        var cdb = scratch["rules.cdb"];
        CdbWriter.WriteAtomically(cdb, cdb + ".tmp", w => w.Add("127.0.0.1"u8, record.ToArray()));
        using var server = new ServerModeServer(home, scratch.Path, smtpdArgs: args, rulesCdb: cdb);
        var replies = server.Talk(conversation);
        var ended = server.WaitForLog("tcpserver: end 1 status ");
        var log = server.Log.Split('\n');
        var end = log.FirstOrDefault(l => l.StartsWith("tcpserver: end 1 status ", StringComparison.Ordinal));
        var code = ended && end != null ? int.Parse(end["tcpserver: end 1 status ".Length..]) : -1;
        var sessionLines = string.Concat(log.Where(l => l.StartsWith("jsmail-smtpd: ", StringComparison.Ordinal)).Select(l => l + "\n"));
        return new RunResult(code, replies, Encoding.UTF8.GetBytes(sessionLines), !ended);
    }

    public void Signal(int signal) => Libc.Kill(_process.Id, signal);

    /// <summary>Waits (bounded) for the server to exit; its exit code, or null if it did not.</summary>
    public int? WaitForExit(int seconds)
    {
        if (!_process.WaitForExit(seconds * 1000)) return null;
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>A line of /proc/PID/status ("Uid:", "VmRSS:").</summary>
    public string Status(string field) =>
        File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGKILL);
            _process.WaitForExit(30_000);
        }
        _process.Dispose();
    }
}
