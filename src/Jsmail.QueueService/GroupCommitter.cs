using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// Makes prepared messages durable together. Connection threads write each
/// message's files without syncing (<see cref="QueueCommit.Prepare"/>) and
/// hand it here; one thread takes every message waiting, makes all their
/// files durable with one syncfs, links each todo, makes the links durable
/// with one fsync of todo/, pulls the trigger once and only then answers each
/// message. While it syncs, the next batch gathers: the more messages in
/// flight, the fewer syncs per message.
/// A crash before the todo link leaves mess and intd for qmail-clean, as a
/// killed jsmail-queue does; no message is answered before its link is durable.
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
    private List<Pending> _waiting = [];
    private bool _stopping;
    private readonly Thread _thread;

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
            _waiting.Add(pending);
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
        while (TakeBatch() is { } batch) CommitBatch(batch);
    }

    private List<Pending>? TakeBatch()
    {
        lock (_lock)
        {
            while (_waiting.Count == 0 && !_stopping) Monitor.Wait(_lock);
            if (_waiting.Count == 0) return null;
            var batch = _waiting;
            _waiting = [];
            return batch;
        }
    }

    private void CommitBatch(List<Pending> batch)
    {
        Interlocked.Increment(ref _syncs);
        var filesDurable = Libc.Syncfs(_queueDirFd) == 0;
        var linked = 0;
        foreach (var p in batch)
        {
            p.Exit = filesDurable ? p.Commit.LinkTodo() : p.Commit.Abandon(QueueExit.WriteError);
            if (p.Exit == QueueExit.Ok) linked++;
        }
        if (linked > 0)
        {
            Interlocked.Increment(ref _syncs);
            // A link that cannot be made durable is not promised: the message
            // may still go out (jsmail-send may see it), but the client retries;
            // a duplicate is qmail's answer to doubt, a loss never.
            if (Libc.Fsync(_todoDirFd) != 0)
                foreach (var p in batch)
                    if (p.Exit == QueueExit.Ok) p.Exit = QueueExit.WriteError;
            QueueCommit.PullTrigger();
        }
        foreach (var p in batch) p.Done.Set();
    }
}
