namespace Jsmail.Common.Os;

public enum ChildEnd
{
    /// <summary>It exited on its own: <see cref="ChildResult.Code"/> is the exit code.</summary>
    Exited,
    /// <summary>
    /// A signal ended it (a cap's kill included): <see cref="ChildResult.Code"/> is the signal;
    /// 0 when waitpid could not tell how it ended (someone else reaped it).
    /// </summary>
    Signalled,
    /// <summary>The time limit passed first; its process group was killed.</summary>
    TimedOut,
    /// <summary>posix_spawn failed (the exec included): <see cref="ChildResult.Code"/> is the errno.</summary>
    CouldNotStart,
    /// <summary>A pipe or /dev/null could not be opened before the start: <see cref="ChildResult.Code"/> is the errno.</summary>
    SetupFailed,
}

/// <summary>How a child run ended, and what it wrote into the captured pipes.</summary>
public sealed class ChildResult
{
    private readonly IReadOnlyList<ChildFd> _fds;
    private readonly byte[][] _captured;
    private readonly bool[] _capped;

    internal ChildResult(ChildEnd end, int code, IReadOnlyList<ChildFd> fds, byte[][] captured, bool[] capped)
    {
        End = end;
        Code = code;
        _fds = fds;
        _captured = captured;
        _capped = capped;
    }

    public ChildEnd End { get; }
    /// <summary>The child's pid (qmail-smtpd's "qp" names the queue program by it); -1 when it never started.</summary>
    public int Pid { get; internal init; } = -1;
    /// <summary>The exit code, the signal or the errno, as <see cref="End"/> says; 0 for a timeout.</summary>
    public int Code { get; }

    public bool ExitedWith(int code) => End == ChildEnd.Exited && Code == code;

    /// <summary>What the child wrote on a captured descriptor, at most its cap.</summary>
    public byte[] Output(int childFd)
    {
        var i = IndexOf(childFd);
        return i < 0 ? [] : _captured[i];
    }

    /// <summary>True when the child wrote more than the cap on that descriptor.</summary>
    public bool Capped(int childFd)
    {
        var i = IndexOf(childFd);
        return i >= 0 && _capped[i];
    }

    private int IndexOf(int childFd)
    {
        for (var i = 0; i < _captured.Length; i++) // none when it never started
            if (_fds[i].Child == childFd && _fds[i].Kind == ChildFdKind.Capture) return i;
        return -1;
    }
}
