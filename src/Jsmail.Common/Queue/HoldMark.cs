using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// <c>queue/hold/&lt;id&gt;</c> (docs/jsmail.md): the mark of a message the
/// operator held. The message's own files stay where qmail keeps them, so no
/// program loses it: jsmail-send schedules no delivery of a marked message
/// until the mark is gone, while a real qmail-send, which never looks in
/// hold/, simply delivers it. The mark holds <c>I&lt;mess size&gt;,&lt;mess mtime&gt;\n</c>,
/// as rparam/ does, so that a mark left behind by a program that does not
/// remove it never holds a later message that reuses the inode.
/// Paths are relative to queue/.
/// </summary>
public static class HoldMark
{
    public const string Directory = "hold";

    private static byte[]? Identity(ulong id) =>
        Libc.StatPath(QueueLayout.Mess(id), out var st) == 0 ? Encoding.ASCII.GetBytes($"I{st.Size},{st.MTimeSec}\n") : null;

    /// <summary>Writes the mark (durably) for the message as it is now; false (errno set) if the message or the directory is missing.</summary>
    public static bool Write(ulong id)
    {
        if (Identity(id) is not { } identity) return false;
        var path = QueueLayout.Hold(id);
        var temp = $"{Directory}/.{id}.new";
        var fd = Libc.Open(temp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0x180);
        if (fd < 0) return false;
        var ok = Libc.WriteAll(fd, identity) && Libc.Fsync(fd) == 0;
        Libc.Close(fd);
        if (ok && Libc.Rename(temp, path) == 0) return true;
        Libc.Unlink(temp);
        return false;
    }

    /// <summary>Whether the message carries a mark written for it (not one a reused inode inherited).</summary>
    public static bool IsHeld(ulong id)
    {
        var fd = Libc.Open(QueueLayout.Hold(id), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return false;
        using var owner = new OwnedFd(fd);
        return FdRead.AllOrNull(fd) is { } content && Identity(id) is { } identity && content.AsSpan().SequenceEqual(identity);
    }

    /// <summary>Removes the mark; true when there is none afterwards.</summary>
    public static bool Remove(ulong id) => Libc.Unlink(QueueLayout.Hold(id)) == 0 || Libc.Errno == Errno.ENOENT;

    /// <summary>The ids of the marks in hold/ (none when the directory is missing).</summary>
    public static List<ulong> Ids()
    {
        var ids = new List<ulong>();
        try
        {
            foreach (var p in System.IO.Directory.EnumerateFiles(Directory))
                if (ulong.TryParse(Path.GetFileName(p), System.Globalization.NumberStyles.None, null, out var id)) ids.Add(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return ids;
    }
}
