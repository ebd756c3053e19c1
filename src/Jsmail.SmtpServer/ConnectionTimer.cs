namespace Jsmail.SmtpServer;

/// <summary>Which deadline ended a connection.</summary>
public enum Expiry { None, Io, Session, Stopping }

/// <summary>
/// A connection's deadlines: the one for the read or write in progress
/// (control/timeoutsmtpd, as qmail-smtpd times every read and write), the
/// whole session's (--session-timeout: a client sending a byte every few
/// seconds meets it), and the server's stop. <see cref="DeadlineSweeper"/>
/// checks every timer once a second and cancels the token of one that has
/// passed, which ends the awaited read or write.
/// </summary>
public sealed class ConnectionTimer : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly long _sessionDeadline;
    private long _ioDeadline = long.MaxValue;

    public ConnectionTimer(long nowMs, int sessionSeconds) => _sessionDeadline = nowMs + sessionSeconds * 1000L;

    public CancellationToken Token => _cancel.Token;
    public Expiry Expired { get; private set; }

    /// <summary>A read or write starts: it may take this long.</summary>
    public void StartIo(long nowMs, int seconds) => Volatile.Write(ref _ioDeadline, nowMs + seconds * 1000L);

    public void EndIo() => Volatile.Write(ref _ioDeadline, long.MaxValue);

    /// <summary>Which deadline has passed by now, if any.</summary>
    public Expiry Due(long nowMs) =>
        nowMs >= _sessionDeadline ? Expiry.Session
        : nowMs >= Volatile.Read(ref _ioDeadline) ? Expiry.Io
        : Expiry.None;

    /// <summary>Ends the read or write in progress and every later one.</summary>
    public void Expire(Expiry why)
    {
        lock (_cancel)
        {
            if (Expired != Expiry.None) return;
            Expired = why;
        }
        try { _cancel.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    public void Dispose() => _cancel.Dispose();
}

/// <summary>One timer thread for every connection's deadlines, instead of a timer per read.</summary>
public sealed class DeadlineSweeper : IDisposable
{
    private readonly HashSet<ConnectionTimer> _timers = new();
    private readonly Timer _tick;
    public DeadlineSweeper() => _tick = new Timer(_ => Sweep(), null, 1000, 1000);

    public static long Now => Environment.TickCount64;

    public void Add(ConnectionTimer timer) { lock (_timers) _timers.Add(timer); }

    public void Remove(ConnectionTimer timer) { lock (_timers) _timers.Remove(timer); }

    /// <summary>Every open connection's timer: the stop deadline ends them all.</summary>
    public void StopAll()
    {
        foreach (var t in Snapshot()) t.Expire(Expiry.Stopping);
    }

    /// <summary>Cancelling runs the awaiting code, which may remove its timer: so never under the lock.</summary>
    private void Sweep()
    {
        var now = Now;
        List<(ConnectionTimer, Expiry)>? due = null;
        lock (_timers)
            foreach (var t in _timers)
                if (t.Expired == Expiry.None && t.Due(now) is var why and not Expiry.None) (due ??= []).Add((t, why));
        if (due != null) foreach (var (t, why) in due) t.Expire(why);
    }

    private ConnectionTimer[] Snapshot()
    {
        lock (_timers) return [.. _timers];
    }

    public void Dispose() => _tick.Dispose();
}
