namespace Jsmail.Common.Os;

/// <summary>
/// Runs a child with a deadline: feeds it, captures its output up to a cap,
/// kills its process group when the time is up, and says how it ended
/// (<see cref="ChildResult"/>). The one way jsmail runs a helper program and
/// waits for it; <see cref="ChildRun"/> holds the state, this class the two
/// ways of driving it.
/// </summary>
public static class ChildRunner
{
    /// <summary>
    /// Blocks the calling thread until the run is over: poll(2) on the pidfd
    /// and the pipes, nothing else (no thread, no timer, no task), so that a
    /// program started per message pays nothing for it but the child itself.
    /// </summary>
    public static ChildResult Run(ChildRequest request)
    {
        var run = ChildRun.Start(request);
        Span<Libc.PollFd> poll = stackalloc Libc.PollFd[run.MaxPollEntries];
        while (!run.Done)
        {
            var n = run.FillPoll(poll);
            Libc.Poll(poll[..n], run.PollTimeout(Environment.TickCount64));
            run.Advance(poll[..n], Environment.TickCount64);
        }
        return run.Result!;
    }

    /// <summary>
    /// The same run without blocking a thread: the child is started on the
    /// caller's thread, then watched by <see cref="ChildWatcher"/>'s one thread
    /// with every other child run this way. Cancelling kills the process group
    /// and ends the task as cancelled once the child is reaped.
    /// </summary>
    public static ValueTask<ChildResult> RunAsync(ChildRequest request, CancellationToken cancel = default)
    {
        var run = ChildRun.Start(request);
        if (run.Done) return new ValueTask<ChildResult>(run.Result!);
        return new ValueTask<ChildResult>(ChildWatcher.Shared.Watch(run, cancel));
    }
}
