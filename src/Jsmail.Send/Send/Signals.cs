using System.Runtime.InteropServices;
using Jsmail.Common.Os;

namespace Jsmail.Send.Send;

/// <summary>
/// TERM, ALRM and HUP as flags for the single-threaded loop. The runtime runs
/// handlers on another thread, so each also writes a byte into a pipe the loop
/// polls: a signal wakes poll() at once, as it interrupts qmail's select().
/// </summary>
public sealed class Signals : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = new();
    private readonly int _wakeWrite;
    private volatile bool _exit, _runAsap, _readAsap;

    public int WakeFd { get; }
    public bool ExitRequested => _exit;

    public Signals()
    {
        Libc.Pipe(out var r, out _wakeWrite);
        WakeFd = r;
        Libc.Fcntl(r, Libc.F_SETFL, Libc.O_NONBLOCK);
        Libc.Fcntl(_wakeWrite, Libc.F_SETFL, Libc.O_NONBLOCK);
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _exit = true; Wake(); }));
        _registrations.Add(PosixSignalRegistration.Create((PosixSignal)14, c => { c.Cancel = true; _runAsap = true; Wake(); }));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; _readAsap = true; Wake(); }));
    }

    private void Wake() => Libc.WriteOnce(_wakeWrite, [1]);

    public void Drain()
    {
        Span<byte> buf = stackalloc byte[64];
        while (Libc.Read(WakeFd, buf) > 0) { }
    }

    public bool TakeRunAsap() { var r = _runAsap; _runAsap = false; return r; }
    public bool TakeReadAsap() { var r = _readAsap; _readAsap = false; return r; }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
