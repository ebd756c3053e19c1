using System.Diagnostics;

namespace Jsmail.TestSupport;

/// <summary>
/// daemontools' svscan over a test's service directory, and its stop in the
/// order of test-peers.md: svscan first (by pid), then svc -dx each service,
/// then its log; whatever still runs from the test's directories after a
/// bounded wait is killed.
/// </summary>
public sealed class Svscan(string serviceDir, string home, string scratch)
{
    private Process? _process;

    public void Start() =>
        _process = Run.Start("/bin/bash", ["-c", "exec svscan \"$1\" >/dev/null 2>&1 </dev/null", "bash", serviceDir]);

    public void Stop()
    {
        if (_process != null)
        {
            try { _process.Kill(); _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
            _process.Dispose();
            _process = null;
        }
        if (Directory.Exists(serviceDir))
        {
            Run.Shell("for s in \"$1\"/*; do svc -dx \"$s\"; done 2>/dev/null; true", args: serviceDir);
            Wait.Until(() => Processes.Under(home).All(p => p.Exe.EndsWith("/multilog") || p.Exe.EndsWith("/supervise")), 60);
            Run.Shell("for s in \"$1\"/*; do svc -dx \"$s/log\"; done 2>/dev/null; true", args: serviceDir);
        }
        Wait.Until(() => Processes.Under(home, scratch).Count == 0, 30);
        Processes.KillAll(home, scratch);
    }
}
