using Jsmail.Common.Os;

namespace Jsmail.Showctl;

public enum ControlState { Missing, Present, Unreadable }

/// <summary>What qmail's control_read* functions see of one file: missing (ENOENT only), its bytes, or an error.</summary>
public readonly record struct ControlFile(ControlState State, byte[] Bytes)
{
    public static readonly ControlFile Missing = new(ControlState.Missing, []);
    public static readonly ControlFile Unreadable = new(ControlState.Unreadable, []);
}

/// <summary>The control directory as jsmail-showctl reads it.</summary>
public interface IControlFiles
{
    ControlFile Read(string name);

    /// <summary>The file's mtime, or null if it cannot be stat'ed.</summary>
    long? Mtime(string name);

    /// <summary>The directory's entries in readdir order, without . and ..</summary>
    IReadOnlyList<string> Names { get; }
}

/// <summary>The real control/ directory, relative to the working directory.</summary>
public sealed class ControlDirectory(IReadOnlyList<string> names) : IControlFiles
{
    public IReadOnlyList<string> Names => names;

    public ControlFile Read(string name)
    {
        // O_NONBLOCK as qmail's open_read: a FIFO must not hang the listing.
        using var file = OwnedFd.Open(name, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (!file.IsOpen) return Libc.Errno == Errno.ENOENT ? ControlFile.Missing : ControlFile.Unreadable;
        return FdRead.AllOrNull(file.Fd) is { } bytes ? new ControlFile(ControlState.Present, bytes) : ControlFile.Unreadable;
    }

    public long? Mtime(string name) => Libc.StatPath(name, out var st) == 0 ? st.MTimeSec : null;
}
