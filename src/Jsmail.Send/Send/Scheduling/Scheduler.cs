using Jsmail.Common.Queue;

namespace Jsmail.Send.Send.Scheduling;

/// <summary>
/// qmail-send's scheduling (interfaces §2.3–§2.13) as a pure state machine:
/// events in (a message scanned at start-up or reported by jsmail-todo, a
/// command written, spawner results, time passing, signals), actions out
/// (<see cref="SchedulerAction"/>: deliveries to start, records to mark done,
/// bounces, log lines, files to remove). It owns no descriptor and reads no
/// clock: the driver (<see cref="QueueManager"/>) does the I/O and passes the
/// time in. Grouping is <see cref="RecipientGroups"/>, retries
/// <see cref="RetrySchedule"/>.
/// </summary>
public sealed partial class Scheduler
{
    public const long SleepForever = 86400, SleepSysfail = 123;

    private readonly ChannelSchedule[] _channels;
    private readonly long _lifetime;
    private readonly int _numJobs;
    private readonly PriorityQueue<ulong, long> _done = new(), _fail = new();
    private readonly Dictionary<ulong, int> _priorities = new(); // MT-PRIORITY other than 0, until the message completes
    private int _openJobs;
    private ulong _masterDeliveryId = 1;

    /// <summary>What the driver must do next, in order; it takes them with <see cref="TakeActions"/>.</summary>
    public List<SchedulerAction> Actions { get; private set; } = new();

    public bool ExitAsap { get; private set; }

    /// <param name="concurrency">slots per channel, local then remote</param>
    /// <param name="groupLimit">recipients per delivery per channel (1: qmail's one)</param>
    /// <param name="lifetime">queuelifetime: a message older than this gets its deferrals turned into failures</param>
    public Scheduler(int[] concurrency, int[] groupLimit, long lifetime)
    {
        _channels = [new ChannelSchedule(Channel.Local, concurrency[0], groupLimit[0]), new ChannelSchedule(Channel.Remote, concurrency[1], groupLimit[1])];
        _numJobs = concurrency[0] + concurrency[1];
        _lifetime = lifetime;
    }

    public ChannelSchedule this[Channel c] => _channels[(int)c];

    public List<SchedulerAction> TakeActions()
    {
        var taken = Actions;
        Actions = new();
        return taken;
    }

    /// <summary>No delivery is outstanding on a live spawner.</summary>
    public bool CanExit
    {
        get
        {
            foreach (var c in _channels)
                if (c.SpawnAlive && c.Used > 0) return false;
            return true;
        }
    }

    /// <summary>Messages waiting for a pass on a channel (a message due on both counts twice).</summary>
    public int Queued => _channels[0].Waiting + _channels[1].Waiting;

    private void Log(string text, byte[]? tail = null) => Actions.Add(new LogLine(text, tail));

    public void Status()
    {
        var s = $"status: local {_channels[0].Used}/{_channels[0].Concurrency} remote {_channels[1].Used}/{_channels[1].Concurrency}";
        Log(ExitAsap ? s + " exitasap" : s);
    }

    /// <summary>The time the driver must call <see cref="Tick"/> by, with nothing else happening.</summary>
    public long Wakeup(long now)
    {
        var wakeup = now + SleepForever;
        if (ExitAsap) return wakeup;
        foreach (var c in _channels)
            if (c.InPass && c.Available) return 0;
        if (_openJobs < _numJobs)
            foreach (var c in _channels)
            {
                if (c.InPass || WaitsForSlot(c)) continue; // a delivery's result ticks it
                if (c.Due.TryPeek(out _, out var due) && wakeup > due) wakeup = due;
                foreach (var p in c.Prioritized.Values) if (wakeup > p) wakeup = p;
            }
        if (_fail.TryPeek(out _, out var f) && wakeup > f) wakeup = f;
        if (_done.TryPeek(out _, out var dn) && wakeup > dn) wakeup = dn;
        return wakeup;
    }

    // ------------------------------------------------------------ messages arriving

    /// <summary>
    /// A message's MT-PRIORITY (RFC 6710, -9..9; 0 for all others), told by
    /// the driver before <see cref="TodoDone"/> or <see cref="MessageScanned"/>:
    /// when more messages are due than slots free, higher priorities get
    /// their passes first (docs/jsmail-send.md).
    /// </summary>
    public void Prioritize(ulong id, int priority)
    {
        if (priority == 0) _priorities.Remove(id);
        else _priorities[id] = priority;
    }

    /// <summary>
    /// qmail opens the next pass while every slot is busy, so the message is
    /// chosen before the slot frees; with prioritized messages waiting, the
    /// choice waits for the slot, so a message that came meanwhile can win it.
    /// </summary>
    private static bool WaitsForSlot(ChannelSchedule c) => c.Prioritized.Count > 0 && !c.Available;

    private void Enqueue(ChannelSchedule c, ulong id, long due)
    {
        if (_priorities.ContainsKey(id)) c.Prioritized[id] = due;
        else c.Due.Enqueue(id, due);
    }

    /// <summary>
    /// The message whose pass comes next, taken off the schedule: of those due,
    /// the highest priority, the earliest due among equals (the messages
    /// without one, in qmail's order, count as 0).
    /// </summary>
    private bool TakeNextDue(ChannelSchedule c, long now, out ulong id)
    {
        var normal = c.Due.TryPeek(out id, out var bestDue) && bestDue <= now;
        var best = normal ? 0 : int.MinValue;
        var prioritized = false;
        if (!normal) bestDue = long.MaxValue;
        foreach (var (e, due) in c.Prioritized)
        {
            if (due > now) continue;
            var p = _priorities.GetValueOrDefault(e);
            if (p > best || (p == best && due < bestDue)) { best = p; bestDue = due; id = e; prioritized = true; }
        }
        if (prioritized) c.Prioritized.Remove(id);
        else if (normal) c.Due.Dequeue();
        return prioritized || normal;
    }

    /// <summary>qmail's pqadd: a message's files as scanned at start-up (or again after a failed stat).</summary>
    public void MessageScanned(ulong id, ScannedMessage m, long now)
    {
        if (!m.HasInfo || m.HasTodo) return; // no message, or jsmail-todo will redo it
        _rescan.Remove(id);
        if (KeepParked(id)) return;
        if (m.LocalMtime is { } l) Enqueue(_channels[0], id, l);
        if (m.RemoteMtime is { } r) Enqueue(_channels[1], id, r);
        if (m.LocalMtime == null && m.RemoteMtime == null) _done.Enqueue(id, now);
    }

    /// <summary>A stat of the message's files failed (the driver logged it): scan again later.</summary>
    public void ScanFailed(ulong id, long now) => _fail.Enqueue(id, now + SleepSysfail);

    /// <summary>jsmail-todo's <c>D&lt;code&gt;&lt;id&gt;</c>: L, R or B channels to deliver on, X none.</summary>
    public void TodoDone(byte code, ulong id, long now)
    {
        if (ExitAsap) return;
        if (KeepParked(id)) return;
        if (code is (byte)'L' or (byte)'B') Enqueue(_channels[0], id, now);
        if (code is (byte)'R' or (byte)'B') Enqueue(_channels[1], id, now);
        if (code == (byte)'X') _done.Enqueue(id, now);
    }

    // ------------------------------------------------------------ signals and losses

    /// <summary>ALRM: every scheduled message is due now.</summary>
    public void Alarm(long now)
    {
        foreach (var c in _channels)
        {
            var ids = new List<ulong>(c.Due.Count);
            while (c.Due.TryDequeue(out var id, out _)) ids.Add(id);
            foreach (var id in ids) c.Due.Enqueue(id, now);
            foreach (var id in (ulong[])[.. c.Prioritized.Keys]) c.Prioritized[id] = now;
        }
    }

    public void Hangup() => Actions.Add(new RereadControls());

    public void Terminate() => ExitAsap = true;

    public void SpawnerLost(Channel c)
    {
        Log("alert: oh no! lost spawn connection! dying...");
        this[c].SpawnAlive = false;
        ExitAsap = true;
    }

    public void CleanLost()
    {
        Log("alert: oh no! lost qmail-clean connection! dying...");
        ExitAsap = true;
    }

    /// <summary>jsmail-todo went away without being asked.</summary>
    public void TodoLost()
    {
        if (ExitAsap) return;
        Log("alert: oh no! lost qmail-todo connection! dying...");
        ExitAsap = true;
    }

    /// <summary>At exit: each scheduled message's next attempt, to be kept in its channel file's times.</summary>
    public void Finish()
    {
        foreach (var c in _channels)
        {
            while (c.Due.TryDequeue(out var id, out var due)) Actions.Add(new SetNextAttempt(c.Channel, id, due));
            foreach (var (id, due) in c.Prioritized) Actions.Add(new SetNextAttempt(c.Channel, id, due));
            c.Prioritized.Clear();
        }
    }

    // ------------------------------------------------------------ messages leaving

    /// <summary>Time passes: start or continue a pass on each channel, rescan a failed message, complete a finished one.</summary>
    public void Tick(long now)
    {
        foreach (var c in _channels) PassChannel(c, now);
        if (_fail.TryPeek(out var failId, out var f) && f <= now) { _fail.Dequeue(); Actions.Add(new ScanMessage(failId)); }
        if (_done.TryPeek(out var doneId, out var d) && d <= now) { _done.Dequeue(); _priorities.Remove(doneId); Actions.Add(new CompleteMessage(doneId)); }
    }

    /// <summary>Completing the message failed (the driver logged why): try again later.</summary>
    public void CompleteFailed(ulong id, long now) => _done.Enqueue(id, now + SleepSysfail);

    /// <summary>The channel file is gone; the message is complete unless the other channel still has its file.</summary>
    public void ChannelFileRemoved(ulong id, bool otherChannelRemains, long now)
    {
        if (!otherChannelRemains) _done.Enqueue(id, now);
    }

    /// <summary>The channel file could not be removed (logged): a pass over it again later.</summary>
    public void ChannelFileKept(Channel c, ulong id, long now) => Schedule(this[c], id, now + SleepSysfail);
}
