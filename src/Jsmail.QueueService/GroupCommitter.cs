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
/// in flight, the fewer syncs per message.
/// </summary>
public sealed class GroupCommitter
{
    private sealed class Pending(QueueCommit commit)
    {
        public QueueCommit Commit { get; } = commit;
        public int Exit;
        public readonly ManualResetEventSlim Done = new();
    }

    private readonly int _queueDirFd, _todoDirFd;
    private readonly object _lock = new();
    private List<Pending> _arrived = [];
    private bool _stopping;
    private readonly Thread _thread;

    // the committer thread's own
    private readonly GroupCommitCore _core = new();
    private readonly Dictionary<long, Pending> _inFlight = [];
    private long _nextTicket;

    /// <summary>Filesystem syncs made (syncfs and fsync), for the log.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);
    private long _syncs;

    /// <param name="queueDirFd">queue/, whose filesystem syncfs makes durable</param>
    /// <param name="todoDirFd">queue/todo, fsynced after the links</param>
    public GroupCommitter(int queueDirFd, int todoDirFd)
    {
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
        while (TakeArrived(wait: true) is { } arrived) Execute(Prepared(arrived));
    }

    /// <summary>Gives the core the messages that arrived; it starts a batch with them or keeps them for the next.</summary>
    private List<GroupCommitAction> Prepared(List<Pending> arrived)
    {
        var tickets = new List<long>(arrived.Count);
        foreach (var p in arrived)
        {
            _inFlight[++_nextTicket] = p;
            tickets.Add(_nextTicket);
        }
        return _core.Prepared(tickets);
    }

    private List<Pending>? TakeArrived(bool wait)
    {
        lock (_lock)
        {
            while (wait && _arrived.Count == 0 && !_stopping) Monitor.Wait(_lock);
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
            case GroupCommitStep.SyncFiles:
                return _core.FilesSynced(Sync(() => Libc.Syncfs(_queueDirFd)));
            case GroupCommitStep.Link:
                return _core.Linked(action.Ticket, _inFlight[action.Ticket].Commit.LinkTodo());
            case GroupCommitStep.Abandon:
                _inFlight[action.Ticket].Commit.Abandon(action.Exit);
                return [];
            case GroupCommitStep.SyncLinks:
                return _core.LinksSynced(Sync(() => Libc.Fsync(_todoDirFd)));
            case GroupCommitStep.SyncLinksAndFiles:
                return _core.LinksSynced(Sync(() => Libc.Syncfs(_queueDirFd)));
            case GroupCommitStep.PullTrigger:
                QueueCommit.PullTrigger();
                return [];
            default:
                _inFlight.Remove(action.Ticket, out var pending);
                pending!.Exit = action.Exit;
                pending.Done.Set();
                return [];
        }
    }

    private bool Sync(Func<int> call)
    {
        Interlocked.Increment(ref _syncs);
        return call() == 0;
    }
}
