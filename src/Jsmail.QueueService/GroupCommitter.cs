using System.Diagnostics;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// The driver of <see cref="GroupCommitCore"/>: connection threads write each
/// message's files without syncing (<see cref="QueueCommit.Prepare"/>) and
/// hand it here; one thread feeds every message waiting to the core as one
/// batch and does what the core asks (one syncfs for all their files, the
/// todo links, one fsync of todo/, one trigger), then wakes each connection
/// with its answer. While it syncs, the next batch gathers: the more messages
/// in flight, the fewer syncs per message; and when messages come closer
/// together than a commit takes, the core may hold a sync for more of them
/// (<see cref="GroupCommitPace"/>), which this thread waits out on its lock.
/// </summary>
public sealed class GroupCommitter
{
    private sealed class Pending(QueueCommit commit)
    {
        public QueueCommit Commit { get; } = commit;
        public readonly long ArrivedAt = Now();
        public int Exit;
        public readonly ManualResetEventSlim Done = new();
    }

    private readonly int _queueDirFd, _todoDirFd;
    private readonly object _lock = new();
    private List<Pending> _arrived = [];
    private bool _stopping;
    private readonly Thread _thread;

    // the committer thread's own
    private readonly GroupCommitCore _core;
    private readonly Dictionary<long, Pending> _inFlight = [];
    private long _nextTicket;
    /// <summary>When the core's hold runs out (µs, <see cref="Now"/>); -1 when it holds nothing.</summary>
    private long _holdUntil = -1;
    private long _heldSince;

    /// <summary>Filesystem syncs made (syncfs and fsync), for the log.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);
    private long _syncs;
    // for Summary, the committer thread's own (read after Stop)
    private long _batches, _committed, _holds, _held, _syncTime, _closeArrivals, _lastArrival = -1;
    private readonly long _maxHold;
    private readonly QueuedMetrics? _metrics;
    private int _linked; // todo links made since the last sync of links: the batch's size

    /// <param name="queueDirFd">queue/, whose filesystem syncfs makes durable</param>
    /// <param name="todoDirFd">queue/todo, fsynced after the links</param>
    /// <param name="maxHold">the longest a sync is held for more messages, in µs (control/queuedcommitwait); 0: never</param>
    /// <param name="metrics">null: no metrics</param>
    public GroupCommitter(int queueDirFd, int todoDirFd, long maxHold, QueuedMetrics? metrics = null)
    {
        _metrics = metrics;
        _maxHold = maxHold;
        _core = new GroupCommitCore(new GroupCommitPace(maxHold), Now);
        _queueDirFd = queueDirFd;
        _todoDirFd = todoDirFd;
        _thread = new Thread(Loop) { Name = "group commit", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Commits a prepared message; returns its exit code once its todo link is durable (or it failed).</summary>
    public int Commit(QueueCommit commit)
    {
        var pending = new Pending(commit);
        lock (_lock)
        {
            _arrived.Add(pending);
            Monitor.Pulse(_lock);
        }
        pending.Done.Wait(); // not disposed: Set may still be returning; no kernel handle is ever made
        return pending.Exit;
    }

    /// <summary>Commits what is waiting, then ends the thread.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.Pulse(_lock);
        }
        _thread.Join();
    }

    private void Loop()
    {
        while (true)
        {
            if (TakeArrived(wait: true) is { } arrived) Execute(Prepared(arrived));
            else if (_holdUntil >= 0) // the hold ran out (or the service stops): the held sync goes now
            {
                _held += Now() - _heldSince;
                _holdUntil = -1;
                Execute(_core.HoldOver());
            }
            else return;
        }
    }

    private static long Now() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    /// <summary>Gives the core the messages that arrived; it starts a batch with them or keeps them for the next.</summary>
    private List<GroupCommitAction> Prepared(List<Pending> arrived)
    {
        var actions = new List<GroupCommitAction>();
        foreach (var p in arrived)
        {
            if (_lastArrival >= 0 && p.ArrivedAt - _lastArrival < _maxHold) _closeArrivals++;
            _lastArrival = Math.Max(_lastArrival, p.ArrivedAt);
            _inFlight[++_nextTicket] = p;
            actions.AddRange(_core.Prepared([_nextTicket], p.ArrivedAt));
        }
        return actions;
    }

    private List<Pending>? TakeArrived(bool wait)
    {
        lock (_lock)
        {
            while (wait && _arrived.Count == 0 && !_stopping)
            {
                if (_holdUntil < 0) Monitor.Wait(_lock);
                else if (_holdUntil - Now() is var left && left > 0) Monitor.Wait(_lock, (int)((left + 999) / 1000));
                else break;
            }
            if (_arrived.Count == 0) return null;
            var arrived = _arrived;
            _arrived = [];
            return arrived;
        }
    }

    /// <summary>
    /// Does each action in order, feeding every result back, until the core
    /// asks nothing more. Before each one, what arrived meanwhile goes to the
    /// core, so that the sync a batch's links need can cover those files too.
    /// </summary>
    private void Execute(List<GroupCommitAction> first)
    {
        var work = new Queue<GroupCommitAction>(first);
        while (work.TryDequeue(out var action))
        {
            if (TakeArrived(wait: false) is { } arrived)
                foreach (var next in Prepared(arrived)) work.Enqueue(next);
            foreach (var next in Do(action)) work.Enqueue(next);
        }
    }

    private List<GroupCommitAction> Do(GroupCommitAction action)
    {
        switch (action.Step)
        {
            case GroupCommitStep.Hold:
                _holds++;
                _heldSince = Now();
                _holdUntil = _heldSince + action.Duration;
                return [];
            case GroupCommitStep.SyncFiles:
                return _core.FilesSynced(Sync(() => Libc.Syncfs(_queueDirFd)));
            case GroupCommitStep.Link:
                _linked++;
                return _core.Linked(action.Ticket, _inFlight[action.Ticket].Commit.LinkTodo());
            case GroupCommitStep.Abandon:
                _inFlight[action.Ticket].Commit.Abandon(action.Exit);
                return [];
            case GroupCommitStep.SyncLinks:
                BatchCommitted();
                return _core.LinksSynced(Sync(() => Libc.Fsync(_todoDirFd)));
            case GroupCommitStep.SyncLinksAndFiles:
                BatchCommitted();
                return _core.LinksSynced(Sync(() => Libc.Syncfs(_queueDirFd)));
            case GroupCommitStep.PullTrigger:
                QueueCommit.PullTrigger();
                return [];
            default:
                _inFlight.Remove(action.Ticket, out var pending);
                pending!.Exit = action.Exit;
                _metrics?.Answered(action.Exit);
                pending.Done.Set();
                return [];
        }
    }

    private void BatchCommitted()
    {
        _batches++;
        _committed += _linked;
        _metrics?.Committed(_linked);
        _linked = 0;
    }

    private bool Sync(Func<int> call)
    {
        var start = Now();
        if (_holdUntil >= 0) _held += start - _heldSince;
        _holdUntil = -1; // a sync ends any hold
        Interlocked.Increment(ref _syncs);
        _metrics?.Synced();
        var ok = call() == 0;
        var took = Now() - start;
        _syncTime += took;
        _core.SyncTook(took);
        return ok;
    }

    /// <summary>
    /// How the commits went, for the log line at exit (after <see cref="Stop"/>):
    /// what decides the syncs per message is how many messages a batch takes,
    /// and that depends on how close together they came against how long a sync took.
    /// </summary>
    public string Summary()
    {
        var perSync = _syncs == 0 ? 0 : _syncTime / _syncs;
        return $"{_committed} messages linked in {_batches} batches; {_nextTicket} arrived, {_closeArrivals} of them within {_maxHold} µs of the one before; "
            + $"a sync took {perSync} µs on average; {_holds} holds for {_held / 1000} ms in all";
    }
}
