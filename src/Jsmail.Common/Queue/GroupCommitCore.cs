namespace Jsmail.Common.Queue;

public enum GroupCommitStep
{
    /// <summary>Make the files of every message in the batch durable (one syncfs); answer with FilesSynced.</summary>
    SyncFiles,
    /// <summary>Link this message's todo; answer with Linked.</summary>
    Link,
    /// <summary>Remove this message's files: they could not be made durable.</summary>
    Abandon,
    /// <summary>Make the batch's todo links durable (one fsync of todo/); answer with LinksSynced.</summary>
    SyncLinks,
    /// <summary>
    /// One syncfs for the batch's todo links and the files of the messages
    /// prepared while it was linked (the next batch); answer with LinksSynced.
    /// </summary>
    SyncLinksAndFiles,
    /// <summary>Wake jsmail-send once for the batch.</summary>
    PullTrigger,
    /// <summary>Reply to this message's client with this exit code.</summary>
    Answer,
    /// <summary>
    /// Hold the next sync for more messages (<see cref="GroupCommitPace"/>):
    /// feed what arrives to Prepared, and call HoldOver once Duration (µs) has
    /// passed without the core asking for anything else.
    /// </summary>
    Hold,
}

/// <summary>One thing for the driver to do; Ticket and Exit only where the step names a message, Duration only with Hold.</summary>
public readonly record struct GroupCommitAction(GroupCommitStep Step, long Ticket = 0, int Exit = 0, long Duration = 0);

/// <summary>
/// jsmail-queued's group commit as a pure state machine (docs/jsmail-queued.md):
/// prepared messages in, sync, link, trigger and answer actions out; the
/// driver does the I/O and feeds each result back. One batch is committed at a
/// time; messages prepared meanwhile gather into the next. The rules it keeps:
/// no message is linked before its files are durable, none is answered
/// success before its link is durable, and a batch whose files cannot be made
/// durable is abandoned and answered 53. With a <see cref="GroupCommitPace"/>
/// that holds, a sync that would make new files durable (a batch's first, or
/// its links' sync) may first wait for more messages, never longer than the
/// pace's bound.
/// </summary>
/// <param name="pace">when to hold a sync for more messages; null: never</param>
/// <param name="clock">now, in µs on a monotonic clock (only the pace reads it)</param>
public sealed class GroupCommitCore(GroupCommitPace? pace = null, Func<long>? clock = null)
{
    private enum Phase { Idle, HoldingFiles, SyncingFiles, Linking, HoldingLinks, SyncingLinks }

    private readonly GroupCommitPace _pace = pace ?? new GroupCommitPace(0);
    private readonly Func<long> _clock = clock ?? (() => 0);
    private long _holdSince;
    private Phase _phase;
    private List<long> _gathering = [];
    private List<long> _batch = [];
    /// <summary>Messages whose files the pending SyncLinksAndFiles makes durable: the next batch.</summary>
    private List<long> _next = [];
    private readonly Dictionary<long, int> _exits = [];

    /// <summary>No batch in progress and none waiting: the driver may stop.</summary>
    public bool Idle => _phase == Phase.Idle && _gathering.Count == 0;

    /// <summary>
    /// Messages whose files are written (unsynced), at <paramref name="arrivedAt"/>
    /// (default now); a batch starts if none is in progress, and a hold ends
    /// if the pace says it has gathered enough.
    /// </summary>
    public List<GroupCommitAction> Prepared(IEnumerable<long> tickets, long? arrivedAt = null)
    {
        var before = _gathering.Count;
        _gathering.AddRange(tickets);
        if (_gathering.Count == before) return [];
        var at = arrivedAt ?? _clock();
        for (var i = before; i < _gathering.Count; i++) _pace.Arrived(at);
        return _phase switch
        {
            Phase.Idle => StartOrHold(),
            Phase.HoldingFiles when _pace.Hold(_clock(), _holdSince) == 0 => StartBatch(),
            Phase.HoldingLinks when _pace.Hold(_clock(), _holdSince) == 0 => SyncLinksNow(),
            _ => [],
        };
    }

    /// <summary>A Hold's time ran out: the held sync is asked for now. Outside a hold (a late timer) nothing happens.</summary>
    public List<GroupCommitAction> HoldOver() => _phase switch
    {
        Phase.HoldingFiles => StartBatch(),
        Phase.HoldingLinks => SyncLinksNow(),
        _ => [],
    };

    /// <summary>A sync (of any kind) took this long, in µs: what the pace weighs arrivals against.</summary>
    public void SyncTook(long took) => _pace.Synced(took);

    public List<GroupCommitAction> FilesSynced(bool ok)
    {
        Expect(Phase.SyncingFiles);
        var actions = new List<GroupCommitAction>();
        if (!ok)
        {
            foreach (var t in _batch) actions.Add(new(GroupCommitStep.Abandon, t, QueueExit.WriteError));
            foreach (var t in _batch) actions.Add(new(GroupCommitStep.Answer, t, QueueExit.WriteError));
            actions.AddRange(FinishBatch());
            return actions;
        }
        _phase = Phase.Linking;
        foreach (var t in _batch) actions.Add(new(GroupCommitStep.Link, t));
        return actions;
    }

    /// <summary>The result of one Link: 0, or the exit code (66) a failed link gives.</summary>
    public List<GroupCommitAction> Linked(long ticket, int exit)
    {
        Expect(Phase.Linking);
        if (!_batch.Contains(ticket) || !_exits.TryAdd(ticket, exit))
            throw new InvalidOperationException($"Linked({ticket}) was not asked for");
        if (_exits.Count < _batch.Count) return [];
        if (!_exits.ContainsValue(QueueExit.Ok)) return AnswerBatch(pullTrigger: false);
        var now = _clock();
        var hold = _pace.Hold(now, now);
        if (hold == 0) return SyncLinksNow();
        // The links' sync can make the files of messages arriving meanwhile durable too: wait a little for them.
        (_phase, _holdSince) = (Phase.HoldingLinks, now);
        return [new(GroupCommitStep.Hold, Duration: hold)];
    }

    private List<GroupCommitAction> SyncLinksNow()
    {
        _phase = Phase.SyncingLinks;
        if (_gathering.Count == 0) return [new(GroupCommitStep.SyncLinks)];
        // The sync these links need can make the next batch's files durable too: one sync a batch, not two.
        (_next, _gathering) = (_gathering, []);
        return [new(GroupCommitStep.SyncLinksAndFiles)];
    }

    /// <summary>
    /// A link that cannot be made durable is not promised: answered 53 though
    /// jsmail-send may still deliver it (the client's retry makes a duplicate, never a loss).
    /// </summary>
    public List<GroupCommitAction> LinksSynced(bool ok)
    {
        Expect(Phase.SyncingLinks);
        if (!ok)
            foreach (var t in _batch)
                if (_exits[t] == QueueExit.Ok) _exits[t] = QueueExit.WriteError;
        if (_next.Count == 0) return AnswerBatch(pullTrigger: true);

        var actions = new List<GroupCommitAction> { new(GroupCommitStep.PullTrigger) };
        foreach (var t in _batch) actions.Add(new(GroupCommitStep.Answer, t, _exits[t]));
        _exits.Clear();
        (_batch, _next) = (_next, []);
        _phase = Phase.SyncingFiles;
        actions.AddRange(FilesSynced(ok)); // the same sync: the next batch's files are as durable as these links
        return actions;
    }

    private List<GroupCommitAction> AnswerBatch(bool pullTrigger)
    {
        var actions = new List<GroupCommitAction>();
        if (pullTrigger) actions.Add(new(GroupCommitStep.PullTrigger));
        foreach (var t in _batch) actions.Add(new(GroupCommitStep.Answer, t, _exits[t]));
        actions.AddRange(FinishBatch());
        return actions;
    }

    private List<GroupCommitAction> FinishBatch()
    {
        _batch = [];
        _exits.Clear();
        _phase = Phase.Idle;
        return _gathering.Count > 0 ? StartOrHold() : [];
    }

    /// <summary>From Idle with messages gathered: start their batch, or hold it while more are expected.</summary>
    private List<GroupCommitAction> StartOrHold()
    {
        var now = _clock();
        var hold = _pace.Hold(now, now);
        if (hold == 0) return StartBatch();
        (_phase, _holdSince) = (Phase.HoldingFiles, now);
        return [new(GroupCommitStep.Hold, Duration: hold)];
    }

    private List<GroupCommitAction> StartBatch()
    {
        (_batch, _gathering) = (_gathering, []);
        _phase = Phase.SyncingFiles;
        return [new(GroupCommitStep.SyncFiles)];
    }

    private void Expect(Phase phase)
    {
        if (_phase != phase) throw new InvalidOperationException($"event for {phase} while {_phase}");
    }
}
