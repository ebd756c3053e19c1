using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// The operator's changes to one message's queue files (docs/jsmail.md),
/// made only by whoever owns the queue at that moment: jsmail-send, between
/// passes over that message, or the <c>jsmail</c> command while it holds
/// lock/sendmutex (no jsmail-send runs). Each leaves a queue qmail-send
/// understands: records marked done, the bounce file appended to or removed,
/// a channel file's time moved; jsmail-send's own pass then removes what is
/// finished, exactly as after deliveries. Paths are relative to queue/.
/// </summary>
public static class QueueEdits
{
    public static readonly string[] ChannelDirectories = ["local", "remote"];

    public static string ChannelPath(int channel, ulong id) => channel == 0 ? QueueLayout.Local(id) : QueueLayout.Remote(id);

    /// <summary>
    /// Ends every recipient still to be delivered: with <paramref name="bounceBlock"/>
    /// (the recipient in, the bounce file's block out) each is appended to
    /// bounce/&lt;id&gt; before its record is marked done, as a failed delivery
    /// is; without, the message is being deleted and its pending bounce goes too.
    /// Returns the recipients ended, or -1 (errno set) on trouble.
    /// </summary>
    public static int EndRecipients(ulong id, Func<byte[], byte[]>? bounceBlock)
    {
        var ended = 0;
        for (var c = 0; c < 2; c++)
        {
            var path = ChannelPath(c, id);
            var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                if (Libc.Errno == Errno.ENOENT) continue;
                return -1;
            }
            using var owner = new OwnedFd(fd);
            if (FdRead.AllOrNull(fd) is not { } content) return -1;
            foreach (var (offset, address) in PendingRecords(content))
            {
                if (bounceBlock != null && !AppendBounce(id, bounceBlock(address))) return -1;
                if (Libc.Lseek(fd, offset, 0) != offset || Libc.WriteOnce(fd, "D"u8) != 1) return -1;
                ended++;
            }
        }
        if (bounceBlock == null && Libc.Unlink(QueueLayout.Bounce(id)) != 0 && Libc.Errno != Errno.ENOENT) return -1;
        return ended;
    }

    /// <summary>The T records of a channel file: their offsets and addresses.</summary>
    public static IEnumerable<(long Offset, byte[] Address)> PendingRecords(byte[] content)
    {
        var pos = 0;
        while (pos < content.Length)
        {
            var nul = Array.IndexOf(content, (byte)0, pos);
            if (nul < 0) yield break;
            if (content[pos] == 'T') yield return (pos, content[(pos + 1)..nul]);
            pos = nul + 1;
        }
    }

    private static bool AppendBounce(ulong id, byte[] block)
    {
        var fd = Libc.Open(QueueLayout.Bounce(id), Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        if (fd < 0) return false;
        using var owner = new OwnedFd(fd);
        return Libc.WriteAll(fd, block) && Libc.Fsync(fd) == 0;
    }

    /// <summary>Makes the message's next attempt on each channel now (qmail-send keeps it as the file's time); false if a file could not be touched.</summary>
    public static bool DueNow(ulong id, long now)
    {
        var ok = true;
        for (var c = 0; c < 2; c++)
            if (Libc.Utime(ChannelPath(c, id), now) != 0 && Libc.Errno != Errno.ENOENT) ok = false;
        return ok;
    }

    /// <summary>
    /// Deletes a message not preprocessed yet (todo/&lt;id&gt;, no info/ yet), with
    /// no queue manager running: the todo link first, so that what a crash
    /// leaves is a message file with neither info nor todo, which qmail-send's
    /// cleanup removes; then the rest. False (errno set) on trouble.
    /// </summary>
    public static bool DeleteUnprocessed(ulong id)
    {
        foreach (var path in new[] { QueueLayout.Todo(id), QueueLayout.Ext(id), QueueLayout.Mess(id), QueueLayout.Intd(id) })
            if (Libc.Unlink(path) != 0 && Libc.Errno != Errno.ENOENT) return false;
        return true;
    }
}
