namespace Jsmail.Common.Os;

/// <summary>
/// One child from its start to its reaping, as a state machine that never
/// blocks: a driver asks it which descriptors to poll and for how long
/// (<see cref="FillPoll"/>, <see cref="PollTimeout"/>), polls them, and hands
/// the answers back (<see cref="Advance"/>). The blocking driver
/// (<see cref="ChildRunner.Run"/>) polls one run on the caller's thread; the
/// asynchronous one (<see cref="ChildWatcher"/>) polls all runs on one thread.
///
/// Running: feed the Feed pipes, read the Capture pipes, watch the pidfd.
/// The run is over when the child has exited and every captured pipe is at
/// EOF (a grandchild holding one keeps it going); then the child is reaped.
/// At the deadline the process group is killed (and the child itself, should
/// it have left the group) and the run waits, without a deadline, only for the
/// child to die. The child stays unreaped until then, so that its pid, and the
/// process group named by it, cannot be reused before the kill.
///
/// A reader that goes away is not a failure: the write end is non-blocking,
/// EPIPE ends the feeding, and SIGPIPE cannot kill us because the .NET runtime
/// sets it to SIG_IGN at start (children get it back at its default: PosixSpawn
/// resets every signal). Kernels without pidfd_open (before 5.3) are watched
/// by waitpid(WNOHANG) every <see cref="NoPidfdPollMs"/> ms instead; there
/// the child is reaped when seen to exit, so a later kill of its group relies
/// on the group's members keeping its number from reuse.
/// </summary>
internal sealed class ChildRun
{
    private const int NoPidfdPollMs = 20;
    private const int InitialKept = 4096; // a capture grows from here up to its cap, as output comes
    private const int ReadsPerAdvance = 16; // a flooding child cannot hold the watcher thread

    private enum Phase { Running, Killed, Done }

    /// <summary>Our end of one requested descriptor, and how far it has gone.</summary>
    private struct Channel
    {
        public int Fd;      // our end of the pipe, -1 when none or closed
        public int Fed;     // Feed: bytes written so far
        public byte[] Kept; // Capture: the first bytes, up to the cap
        public int KeptLength;
        public bool Capped;
    }

    private readonly ChildRequest _request;
    private readonly Channel[] _channels;
    private readonly int[] _pollOwner; // per entry of the last FillPoll: a channel index, or -1 for the pidfd
    private readonly int _pid;
    private readonly long _deadline;
    private int _pidfd;
    private int _polled;
    private Phase _phase;
    private bool _exited, _reaped, _timedOut;
    private bool _lost; // someone else reaped it (SIGCHLD ignored?): how it ended is unknown
    private int _status;
    private byte[]? _scratch;

    public ChildResult? Result { get; private set; }
    public bool Done => _phase == Phase.Done;
    /// <summary>The largest number of poll entries <see cref="FillPoll"/> fills.</summary>
    public int MaxPollEntries => _channels.Length + 1;

    private ChildRun(ChildRequest request, Channel[] channels, int pid, int pidfd)
    {
        _request = request;
        _channels = channels;
        _pollOwner = new int[channels.Length + 1];
        _pid = pid;
        _pidfd = pidfd;
        _deadline = request.TimeLimit is { } limit
            ? Environment.TickCount64 + (long)Math.Ceiling(limit.TotalMilliseconds) : long.MaxValue;
    }

    private ChildRun(ChildRequest request, ChildEnd end, int errno)
    {
        _request = request;
        _channels = [];
        _pollOwner = [];
        _pidfd = -1;
        _phase = Phase.Done;
        Result = new ChildResult(end, errno, request.Fds, [], []);
    }

    /// <summary>Sets up the descriptors and starts the child. A run that could not start is Done at once.</summary>
    public static ChildRun Start(ChildRequest request)
    {
        var fds = request.Fds;
        var channels = new Channel[fds.Count];
        var childEnds = new int[fds.Count];
        var map = new (int Child, int Parent)[fds.Count];
        for (var i = 0; i < fds.Count; i++) { channels[i].Fd = -1; childEnds[i] = -1; }
        try
        {
            for (var i = 0; i < fds.Count; i++)
            {
                var fd = fds[i];
                int ours = -1, theirs;
                switch (fd.Kind)
                {
                    case ChildFdKind.Pass:
                        theirs = fd.Parent;
                        break;
                    case ChildFdKind.Closed:
                        map[i] = (fd.Child, PosixSpawn.CloseInChild);
                        continue;
                    case ChildFdKind.DevNull:
                        theirs = Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                        if (theirs < 0) return SetupFailed(request, channels);
                        theirs = childEnds[i] = Libc.MoveHigh(theirs);
                        if (theirs < 0) return SetupFailed(request, channels);
                        break;
                    case ChildFdKind.Feed:
                        if (!Libc.Pipe(out theirs, out ours)) return SetupFailed(request, channels);
                        childEnds[i] = theirs;
                        break;
                    default:
                        if (!Libc.Pipe(out ours, out theirs)) return SetupFailed(request, channels);
                        childEnds[i] = theirs;
                        channels[i].Kept = new byte[Math.Min(fd.Cap, InitialKept)];
                        break;
                }
                if (theirs < 0) return SetupFailed(request, channels);
                channels[i].Fd = ours;
                if (ours >= 0) Libc.Fcntl(ours, Libc.F_SETFL, Libc.O_NONBLOCK);
                map[i] = (fd.Child, theirs);
            }
            int pid;
            try { pid = PosixSpawn.Start(request.Program, request.Argv, request.Environment, map, newProcessGroup: true); }
            catch (SpawnException e)
            {
                CloseAll(channels);
                return new ChildRun(request, ChildEnd.CouldNotStart, e.Errno);
            }
            return new ChildRun(request, channels, pid, Libc.PidfdOpen(pid));
        }
        finally
        {
            foreach (var fd in childEnds) if (fd >= 0) Libc.Close(fd);
        }
    }

    private static ChildRun SetupFailed(ChildRequest request, Channel[] channels)
    {
        var errno = Libc.Errno;
        CloseAll(channels);
        return new ChildRun(request, ChildEnd.SetupFailed, errno);
    }

    /// <summary>The descriptors to poll now; returns how many entries it filled.</summary>
    public int FillPoll(Span<Libc.PollFd> poll)
    {
        var n = 0;
        if (_phase != Phase.Done && !_exited && _pidfd >= 0)
        {
            poll[n] = new Libc.PollFd { Fd = _pidfd, Events = Libc.POLLIN };
            _pollOwner[n++] = -1;
        }
        if (_phase == Phase.Running)
            for (var i = 0; i < _channels.Length; i++)
            {
                if (_channels[i].Fd < 0) continue;
                var feed = _request.Fds[i].Kind == ChildFdKind.Feed;
                poll[n] = new Libc.PollFd { Fd = _channels[i].Fd, Events = feed ? Libc.POLLOUT : Libc.POLLIN };
                _pollOwner[n++] = i;
            }
        _polled = n;
        return n;
    }

    /// <summary>Milliseconds the driver may wait in poll(2) for this run; -1: until something happens.</summary>
    public int PollTimeout(long now)
    {
        if (_phase == Phase.Done) return -1;
        var wait = _phase == Phase.Running && _deadline != long.MaxValue
            ? (int)Math.Clamp(_deadline - now, 0, int.MaxValue) : -1;
        if (!_exited && _pidfd < 0) wait = wait < 0 ? NoPidfdPollMs : Math.Min(wait, NoPidfdPollMs);
        return wait;
    }

    /// <summary>Takes the answers to the last <see cref="FillPoll"/> (after a timeout too: revents 0).</summary>
    public void Advance(ReadOnlySpan<Libc.PollFd> poll, long now)
    {
        if (_phase == Phase.Done) return;
        for (var k = 0; k < _polled && k < poll.Length; k++)
        {
            if (poll[k].Revents == 0) continue;
            var owner = _pollOwner[k];
            if (owner < 0) _exited = true;
            else if (_request.Fds[owner].Kind == ChildFdKind.Feed) FeedMore(owner, poll[k].Revents);
            else ReadMore(owner);
        }
        _polled = 0;
        if (!_exited && _pidfd < 0) WaitWithoutPidfd();

        if (_phase == Phase.Running)
        {
            if (_exited && CapturesClosed()) { End(killGroup: _request.KillGroupAtExit || AnyKilledAtCap()); return; }
            if (now >= _deadline) Kill(timedOut: true);
        }
        if (_phase == Phase.Killed && (_exited || _pidfd < 0)) End(killGroup: false);
    }

    /// <summary>Kills the process group now (a cancelled wait); the run then waits for the child to die.</summary>
    public void Cancel()
    {
        if (_phase != Phase.Running) return;
        Kill(timedOut: true);
        if (_exited || _pidfd < 0) End(killGroup: false);
    }

    private void WaitWithoutPidfd()
    {
        var r = Libc.Waitpid(_pid, out _status, Libc.WNOHANG);
        if (r == 0) return;
        _exited = _reaped = true;
        _lost = r != _pid;
    }

    private void FeedMore(int i, short revents)
    {
        ref var ch = ref _channels[i];
        var input = _request.Fds[i].Input.Span;
        if ((revents & Libc.POLLOUT) != 0 && ch.Fed < input.Length)
        {
            var n = Libc.WriteOnce(ch.Fd, input[ch.Fed..]);
            if (n > 0) ch.Fed += n;
            else if (n < 0 && Libc.Errno == Errno.EAGAIN) return;
            else ch.Fed = input.Length; // EPIPE: the child closed it; it has all it wants
        }
        else if ((revents & Libc.POLLOUT) == 0) ch.Fed = input.Length; // POLLERR: the reader is gone
        if (ch.Fed >= input.Length) CloseChannel(ref ch);
    }

    private void ReadMore(int i)
    {
        ref var ch = ref _channels[i];
        var fd = _request.Fds[i];
        _scratch ??= new byte[4096];
        for (var reads = 0; reads < ReadsPerAdvance; reads++)
        {
            var n = Libc.Read(ch.Fd, _scratch);
            if (n < 0 && Libc.Errno == Errno.EAGAIN) return;
            if (n <= 0) { CloseChannel(ref ch); return; }
            var keep = Math.Min(n, fd.Cap - ch.KeptLength);
            if (ch.KeptLength + keep > ch.Kept.Length)
                Array.Resize(ref ch.Kept, (int)Math.Min(fd.Cap, Math.Max(2L * ch.Kept.Length, ch.KeptLength + keep)));
            _scratch.AsSpan(0, keep).CopyTo(ch.Kept.AsSpan(ch.KeptLength));
            ch.KeptLength += keep;
            if (keep == n) continue;
            ch.Capped = true;
            if (!fd.KillAtCap) continue; // read on and drop, so the child is never stuck on a full pipe
            Libc.Kill(-_pid, Libc.SIGKILL);
            CloseChannel(ref ch);
            return;
        }
    }

    private bool CapturesClosed()
    {
        foreach (var ch in _channels)
            if (ch.Fd >= 0 && ch.Kept != null) return false;
        return true;
    }

    private bool AnyKilledAtCap()
    {
        for (var i = 0; i < _channels.Length; i++)
            if (_channels[i].Capped && _request.Fds[i].KillAtCap) return true;
        return false;
    }

    private void Kill(bool timedOut)
    {
        _timedOut = timedOut;
        Libc.Kill(-_pid, Libc.SIGKILL);
        Libc.Kill(_pid, Libc.SIGKILL); // should it have left its group
        CloseAll(_channels);
        _phase = Phase.Killed;
    }

    /// <summary>Kills the group if asked (before the reaping frees its name), reaps, and makes the result.</summary>
    private void End(bool killGroup)
    {
        if (killGroup) Libc.Kill(-_pid, Libc.SIGKILL);
        if (!_reaped && Libc.Waitpid(_pid, out _status) != _pid) _lost = true; // immediate: it has exited or was killed
        _reaped = true;
        CloseAll(_channels);
        if (_pidfd >= 0) { Libc.Close(_pidfd); _pidfd = -1; }
        var captured = new byte[_channels.Length][];
        var capped = new bool[_channels.Length];
        for (var i = 0; i < _channels.Length; i++)
        {
            captured[i] = _channels[i].Kept == null ? [] : _channels[i].Kept.AsSpan(0, _channels[i].KeptLength).ToArray();
            capped[i] = _channels[i].Capped;
        }
        var (end, code) = _timedOut ? (ChildEnd.TimedOut, 0)
            : _lost ? (ChildEnd.Signalled, 0)
            : Libc.Exited(_status) ? (ChildEnd.Exited, Libc.ExitCode(_status))
            : (ChildEnd.Signalled, Libc.TermSignal(_status));
        Result = new ChildResult(end, code, _request.Fds, captured, capped) { Pid = _pid };
        _phase = Phase.Done;
    }

    private static void CloseChannel(ref Channel ch)
    {
        if (ch.Fd >= 0) Libc.Close(ch.Fd);
        ch.Fd = -1;
    }

    private static void CloseAll(Channel[] channels)
    {
        for (var i = 0; i < channels.Length; i++) CloseChannel(ref channels[i]);
    }
}
