namespace Jsmail.Common.Os;

/// <summary>
/// A file descriptor this code owns: closed once, by <see cref="Dispose"/>,
/// unless handed on with <see cref="Release"/>. Meant for <c>using</c>, so that
/// every path out of a block closes it.
/// A class, not a struct: a copied struct would be a second owner closing the
/// same number twice (and `using` locals are read-only, so Release on one would
/// act on a copy). Not a SafeHandle: that adds a finalizer and reference
/// counting around every call; this is one small allocation with neither, and
/// nothing static, so per-message programs start no slower.
/// </summary>
public sealed class OwnedFd(int fd) : IDisposable
{
    /// <summary>The descriptor, or -1 once closed or released (or when the open that made it failed).</summary>
    public int Fd { get; private set; } = fd;

    public bool IsOpen => Fd >= 0;

    /// <summary>open(2); check <see cref="IsOpen"/>, and Libc.Errno when it is not.</summary>
    public static OwnedFd Open(string path, int flags, int mode) => new(Libc.Open(path, flags, mode));

    /// <summary>Gives the descriptor up without closing it; the caller owns it now.</summary>
    public int Release()
    {
        var fd = Fd;
        Fd = -1;
        return fd;
    }

    public void Dispose()
    {
        if (Fd < 0) return;
        Libc.Close(Fd);
        Fd = -1;
    }
}
