using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.TestSupport;

// Whole MTAs, svscan trees and peers: one test at a time keeps the 2 cores for it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Jsmail.E2E.Tests;

/// <summary>Real accounts (useradd) with a Maildir each, homes under a scratch directory; removed at the end.</summary>
public sealed class LocalUsers : IDisposable
{
    private readonly List<string> _names = [];
    private readonly TempDir _dir = new("jsmail-e2e-users");

    public sealed record User(string Name, uint Uid, uint Gid, string Home)
    {
        public string Maildir => System.IO.Path.Combine(Home, "Maildir");

        /// <summary>The delivered messages (new/ and cur/).</summary>
        public List<string> Messages() =>
            new[] { "new", "cur" }.Select(d => System.IO.Path.Combine(Maildir, d)).Where(Directory.Exists)
                .SelectMany(Directory.EnumerateFiles).Select(f => File.ReadAllText(f, Encoding.Latin1)).ToList();
    }

    public User Add(string prefix, string maildirmake)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..6];
        var home = System.IO.Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(home);
        Sh("useradd -M -d \"$1\" -s /bin/sh -U \"$2\"", home, name);
        _names.Add(name);
        Sh("chown \"$2:$2\" \"$1\" && chmod 0755 \"$1\" && setpriv --reuid \"$2\" --regid \"$2\" --clear-groups \"$3\" \"$1/Maildir\"",
            home, name, maildirmake);
        var id = Sh("id -u \"$1\"; id -g \"$1\"", name).Out.Split('\n');
        return new User(name, uint.Parse(id[0]), uint.Parse(id[1]), home);
    }

    public static RunResult Sh(string script, params string[] args)
    {
        var r = Run.Shell(script, args: args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{script}: {r.Err}");
        return r;
    }

    public void Dispose()
    {
        foreach (var n in _names) Run.Shell("userdel \"$1\"; groupdel \"$1\" 2>/dev/null; true", args: n);
        _dir.Dispose();
    }
}

/// <summary>Postfix's smtp-sink on loopback (as nobody), one file per mail transaction.</summary>
public sealed class SmtpSink : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-e2e-sink");
    public int Port { get; } = Ports.Free();
    private string Dumps => _dir["dumps"];

    /// <param name="dsn">false: smtp-sink -N, a peer that does not offer DSN</param>
    public SmtpSink(bool dsn = true)
    {
        Directory.CreateDirectory(Dumps);
        File.SetUnixFileMode(Dumps, (UnixFileMode)0x3FF); // 1777: smtp-sink writes as nobody
        _process = Run.Start("/bin/bash", ["-c", $"exec /usr/sbin/smtp-sink {(dsn ? "" : "-N ")}-u nobody -d \"$1/%H%M%S.\" 127.0.0.1:\"$2\" 100 >/dev/null 2>&1 </dev/null",
            "bash", Dumps, Port.ToString()]);
        if (!Wait.Until(() => Ports.Listening(Port), 30)) throw new InvalidOperationException("smtp-sink did not start");
    }

    /// <summary>Every transaction received so far (the sink writes a file when its transaction ends).</summary>
    public List<string> Messages() =>
        Directory.EnumerateFiles(Dumps).Select(f =>
        {
            try { return File.ReadAllText(f, Encoding.Latin1); }
            catch (IOException) { return ""; }
        }).ToList();

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}
