namespace Jsmail.Common.Os;

/// <summary>
/// The asynchronous driver of <see cref="ChildRun"/>: one thread, started the
/// first time a child is run asynchronously, polls the pidfds and pipes of
/// every child being watched, plus a wake-up pipe through which new runs and
/// cancellations reach it. Each run completes its task from this thread
/// (continuations run elsewhere: RunContinuationsAsynchronously), so a server
/// awaiting a thousand children holds one thread, not a thousand. A program
/// that never runs a child asynchronously never creates it.
/// </summary>
internal sealed class ChildWatcher
{
    private static readonly object s_create = new();
    private static ChildWatcher? s_shared;

    private sealed class Entry(ChildRun run, CancellationToken cancel)
    {
        public readonly ChildRun Run = run;
        public readonly CancellationToken Cancel = cancel;
        public readonly TaskCompletionSource<ChildResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration;
        public volatile bool CancelAsked;
        public bool Cancelled, Failed;
    }

    private readonly object _gate = new();
    private readonly List<Entry> _incoming = [];
    private readonly List<Entry> _watched = [];
    private readonly int _wakeRead, _wakeWrite;

    private ChildWatcher()
    {
        if (!Libc.Pipe(out _wakeRead, out _wakeWrite)) throw new IOException(ErrorText.Describe(Libc.Errno));
        Libc.Fcntl(_wakeRead, Libc.F_SETFL, Libc.O_NONBLOCK);
        Libc.Fcntl(_wakeWrite, Libc.F_SETFL, Libc.O_NONBLOCK);
        new Thread(Loop) { IsBackground = true, Name = "jsmail child watcher" }.Start();
    }

    public static ChildWatcher Shared
    {
        get
        {
            var w = Volatile.Read(ref s_shared);
            if (w != null) return w;
            lock (s_create) return s_shared ??= new ChildWatcher();
        }
    }

    public Task<ChildResult> Watch(ChildRun run, CancellationToken cancel)
    {
        var entry = new Entry(run, cancel);
        // Registered before the watcher can see the entry, so that it never disposes an unset registration.
        if (cancel.CanBeCanceled)
            entry.Registration = cancel.UnsafeRegister(static (state, _) =>
            {
                var (watcher, e) = ((ChildWatcher, Entry))state!;
                e.CancelAsked = true;
                watcher.Wake();
            }, (this, entry));
        lock (_gate) _incoming.Add(entry);
        Wake();
        return entry.Done.Task;
    }

    /// <summary>One byte in the pipe; a full pipe already has a wake-up pending.</summary>
    private void Wake() => Libc.WriteOnce(_wakeWrite, "w"u8);

    private void Loop()
    {
        var poll = new Libc.PollFd[16];
        var filled = new int[4];
        var wakeBuf = new byte[64];
        while (true)
        {
            lock (_gate) { _watched.AddRange(_incoming); _incoming.Clear(); }

            var size = 1;
            foreach (var e in _watched) size += e.Run.MaxPollEntries;
            if (poll.Length < size) poll = new Libc.PollFd[Math.Max(size, poll.Length * 2)];
            if (filled.Length < _watched.Count) filled = new int[Math.Max(_watched.Count, filled.Length * 2)];

            poll[0] = new Libc.PollFd { Fd = _wakeRead, Events = Libc.POLLIN };
            var used = 1;
            var timeout = -1;
            var now = Environment.TickCount64;
            for (var i = 0; i < _watched.Count; i++)
            {
                var e = _watched[i];
                if (e.CancelAsked && !e.Cancelled) { e.Cancelled = true; e.Run.Cancel(); }
                filled[i] = e.Run.FillPoll(poll.AsSpan(used));
                used += filled[i];
                var t = e.Run.PollTimeout(now);
                if (t >= 0 && (timeout < 0 || t < timeout)) timeout = t;
            }

            Libc.Poll(poll.AsSpan(0, used), timeout);
            if (poll[0].Revents != 0) while (Libc.Read(_wakeRead, wakeBuf) > 0) { }

            now = Environment.TickCount64;
            var at = 1;
            for (var i = 0; i < _watched.Count; i++)
            {
                var e = _watched[i];
                try { e.Run.Advance(poll.AsSpan(at, filled[i]), now); }
                catch (Exception ex) { e.Failed = true; e.Done.TrySetException(ex); }
                at += filled[i];
            }
            _watched.RemoveAll(Complete);
        }
    }

    /// <summary>Hands a finished run's result to its task; true to stop watching it.</summary>
    private static bool Complete(Entry e)
    {
        if (!e.Failed && !e.Run.Done) return false;
        e.Registration.Dispose();
        if (e.Failed) return true; // its task already holds the exception
        if (e.Cancelled) e.Done.TrySetCanceled(e.Cancel);
        else e.Done.TrySetResult(e.Run.Result!);
        return true;
    }
}
