using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Faults.Tests;

/// <summary>
/// peers/fault_peer.py on loopback: the remote destination of the mixed flow.
/// It keeps each accepted transaction and whether its client read the 250
/// (sent another command after it), so that a second copy can be told apart
/// from a loss of qmail's guarantee; RCPT to reject* gets 550; while
/// <see cref="Stall"/> is on, transactions stop reading mid-DATA.
/// </summary>
public sealed class FaultPeer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-faults-peer");
    public int Port { get; }

    public FaultPeer()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "peers", "fault_peer.py");
        var portFile = _dir["port"];
        _process = Run.Start("/bin/bash", ["-c", "exec /usr/bin/python3 \"$1\" \"$2\" \"$3\" >/dev/null 2>\"$2/stderr\" </dev/null",
            "bash", script, _dir.Path, portFile]);
        if (!Wait.Until(() => File.Exists(portFile) || _process.HasExited, 30))
            throw new InvalidOperationException("fault_peer.py did not start");
        if (_process.HasExited) throw new InvalidOperationException("fault_peer.py: " + File.ReadAllText(_dir["stderr"]));
        Port = int.Parse(File.ReadAllText(portFile));
    }

    /// <summary>While true, every transaction stops reading in the middle of its DATA.</summary>
    public bool Stall
    {
        set
        {
            if (value) File.WriteAllText(_dir["stall"], "");
            else File.Delete(_dir["stall"]);
        }
    }

    /// <summary>One accepted transaction: its name, when, its content, and whether its client read the 250.</summary>
    public sealed record Received(string Name, DateTime Written, string Content, bool Acked);

    /// <summary>Copies what the peer kept (messages, acks, transcript) into <paramref name="target"/>.</summary>
    public void CopyTo(string target) => FaultMta.Sh("mkdir -p \"$2\" && cp -a \"$1/.\" \"$2/\"", _dir.Path, target);

    public List<Received> Messages()
    {
        var acked = File.Exists(_dir["acks"])
            ? File.ReadAllLines(_dir["acks"]).Select(l => l.Split(' ')[0]).ToHashSet()
            : [];
        var dir = _dir["msg"];
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Select(f => new Received(Path.GetFileName(f), File.GetLastWriteTimeUtc(f), File.ReadAllText(f, Encoding.Latin1), acked.Contains(Path.GetFileName(f))))
            .ToList();
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}
