using Jsmail.Common.Control;
using Jsmail.Common.Remote;

namespace Jsmail.RSpawn;

/// <summary>An open SMTP session the pool keeps between messages.</summary>
internal sealed class PooledSession(SmtpConnection connection, Dialogue dialogue) : IDisposable
{
    public Dialogue Dialogue => dialogue;
    public long IdleSince { get; set; }

    /// <summary>QUIT (its reply never awaited) and close.</summary>
    public void Dispose()
    {
        dialogue.Close();
        connection.Dispose();
    }
}

/// <summary>
/// The pool's limits (control files, read at start): <c>remotesessions</c>
/// open sessions per destination (default 20), <c>remotemessagespersession</c>
/// transactions on one session (default 1000), <c>remoteidle</c> seconds an
/// unused session stays open (default 2, as Postfix's connection cache).
/// </summary>
internal sealed record PoolLimits(int SessionsPerDestination, int MessagesPerSession, int IdleSeconds)
{
    public static PoolLimits Read(ControlReader control) => new(
        (int)Math.Clamp(control.ReadInt("remotesessions", 20), 1, 1000),
        (int)Math.Clamp(control.ReadInt("remotemessagespersession", 1000), 1, int.MaxValue),
        (int)Math.Clamp(control.ReadInt("remoteidle", 2), 0, 3600));
}

/// <summary>
/// Open outbound sessions by destination (the MX hosts in order, the port,
/// the TLS and AUTH rules): a delivery takes an idle one or the right to
/// open one (at most <see cref="PoolLimits.SessionsPerDestination"/> per
/// destination, waiting for one otherwise) and gives it back after its
/// transaction. Idle sessions past <see cref="PoolLimits.IdleSeconds"/> are closed.
/// </summary>
internal sealed class SessionPool
{
    private sealed class Destination
    {
        public int Open;
        public readonly Stack<PooledSession> Idle = new();
    }

    private readonly PoolLimits _limits;
    private readonly Dictionary<string, Destination> _destinations = [];
    private readonly object _lock = new();

    private readonly PoolMetrics? _metrics;

    /// <param name="metrics">null: no metrics</param>
    public SessionPool(PoolLimits limits, PoolMetrics? metrics = null)
    {
        _limits = limits;
        _metrics = metrics;
        new Thread(CloseIdle) { IsBackground = true, Name = "pool-idle" }.Start();
    }

    public PoolLimits Limits => _limits;

    /// <summary>An idle session to reuse, or null: the caller opens one and must <see cref="Give"/> it (or null) back.</summary>
    public PooledSession? Take(string key)
    {
        List<PooledSession> expired = [];
        try
        {
            lock (_lock)
            {
                var d = _destinations.TryGetValue(key, out var found) ? found : _destinations[key] = new Destination();
                while (true)
                {
                    while (d.Idle.TryPop(out var s))
                    {
                        if (Environment.TickCount64 - s.IdleSince <= _limits.IdleSeconds * 1000L)
                        {
                            _metrics?.Reused();
                            return s;
                        }
                        expired.Add(s);
                        d.Open--;
                    }
                    if (d.Open < _limits.SessionsPerDestination)
                    {
                        d.Open++;
                        _metrics?.Opened();
                        return null;
                    }
                    Monitor.Wait(_lock);
                }
            }
        }
        finally
        {
            if (expired.Count > 0) _metrics?.Closed(expired.Count);
            foreach (var s in expired) s.Dispose();
        }
    }

    /// <summary>Back after a delivery: kept when <paramref name="reusable"/> and under the message limit and the peer's LIMITS MAILMAX, else closed.</summary>
    public void Give(string key, PooledSession? session, bool reusable)
    {
        var keep = session != null && reusable && session.Dialogue.Transactions < _limits.MessagesPerSession
            && session.Dialogue.MayStartAnother && _limits.IdleSeconds > 0;
        lock (_lock)
        {
            var d = _destinations[key];
            if (keep) { session!.IdleSince = Environment.TickCount64; d.Idle.Push(session); }
            else
            {
                d.Open--;
                _metrics?.Closed(1);
            }
            Monitor.PulseAll(_lock);
        }
        if (!keep) session?.Dispose();
    }

    private void CloseIdle()
    {
        while (true)
        {
            Thread.Sleep(500);
            List<PooledSession> expired = [];
            lock (_lock)
            {
                foreach (var d in _destinations.Values)
                {
                    if (d.Idle.Count == 0) continue;
                    var keep = d.Idle.Where(s => Environment.TickCount64 - s.IdleSince <= _limits.IdleSeconds * 1000L).Reverse().ToList();
                    expired.AddRange(d.Idle.Except(keep));
                    d.Open -= d.Idle.Count - keep.Count;
                    d.Idle.Clear();
                    foreach (var s in keep) d.Idle.Push(s);
                }
                if (expired.Count > 0) Monitor.PulseAll(_lock);
            }
            if (expired.Count > 0) _metrics?.Closed(expired.Count);
            foreach (var s in expired) s.Dispose();
        }
    }
}
