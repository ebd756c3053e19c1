using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

/// <summary>The scheduler's actions on the channel, info and bounce files, and their answers.</summary>
public sealed partial class QueueManager
{
    /// <summary>qmail's pqadd: stats the message's files and tells the scheduler what is there.</summary>
    private void ScanMessage(ulong id)
    {
        if (Scan(id, out var failed) is { } scanned)
        {
            if (scanned.HasInfo && !scanned.HasTodo) _scheduler.Prioritize(id, ReadPriority(id));
            _scheduler.MessageScanned(id, scanned, Now());
        }
        else
        {
            ActivityLog.Line($"warning: unable to stat {failed}; will try again later");
            _scheduler.ScanFailed(id, Now());
        }
    }

    /// <summary>The message's files, or null with the path whose stat failed.</summary>
    private static ScannedMessage? Scan(ulong id, out string failed)
    {
        failed = QueueLayout.Info(id);
        if (Libc.StatPath(failed, out _) != 0) return Libc.Errno == Errno.ENOENT ? new ScannedMessage(false, false, null, null) : null;
        failed = QueueLayout.Todo(id);
        if (Libc.StatPath(failed, out _) == 0) return new ScannedMessage(true, true, null, null);
        if (Libc.Errno != Errno.ENOENT) return null;
        var mtime = new long?[2];
        foreach (var c in Channels.Both)
        {
            failed = Channels.PathOf(c, id);
            if (Libc.StatPath(failed, out var st) == 0) mtime[(int)c] = st.MTimeSec;
            else if (Libc.Errno != Errno.ENOENT) return null;
        }
        return new ScannedMessage(true, false, mtime[0], mtime[1]);
    }

    private void OpenPass(Channel c, ulong id)
    {
        // a pass reads the T records: one still owed its D would be delivered again
        if (!SettleMarks(c, id))
        {
            _scheduler.PassUnopenable(c, id, Now());
            return;
        }
        var fd = Libc.Open(Channels.PathOf(c, id), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0 || Info(id) is not var (sender, birth))
        {
            if (fd >= 0) Libc.Close(fd);
            _scheduler.PassUnopenable(c, id, Now());
            return;
        }
        byte[]? content;
        try { content = FdRead.All(fd); }
        catch (IOException) { content = null; }
        finally { Libc.Close(fd); }
        _scheduler.PassOpened(c, id, new PassFile(sender, birth, content), Now());
    }

    /// <summary>The info file's sender and the message's birth (its mtime), or null.</summary>
    private static (byte[] Sender, long Birth)? Info(ulong id)
    {
        var fd = Libc.Open(QueueLayout.Info(id), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var fdOwner = new OwnedFd(fd);
        try
        {
            if (Libc.Fstat(fd, out var st) != 0) return null;
            var content = FdRead.All(fd);
            var nul = Array.IndexOf(content, (byte)0);
            if (nul < 0 || content[0] != 'F') return null;
            return (content[1..nul], st.MTimeSec);
        }
        catch (IOException) { return null; }
    }

    /// <summary>Marks that could not be written yet, with when they first failed: retried until they are, or their file is gone.</summary>
    private readonly List<(MarkDone Mark, long Since)> _unmarked = [];

    /// <summary>How long a mark is owed before it is given up as qmail gives it up (the recipient is delivered again).</summary>
    private const long OwedMarkSeconds = 300;

    /// <summary>
    /// Overwrites each record's T with D: those recipients are finished. One
    /// open for all the marks that came together; no fsync, as in qmail: a
    /// mark lost in a crash only means that recipient is delivered again.
    /// A mark that cannot be written now (out of descriptors, say) is not
    /// given up, as qmail-send gives it up ("delivered twice", still so under
    /// JSMAIL_COMPAT=qmail): it is owed, retried every second, and the
    /// message's next pass waits for it, for up to five minutes (a file that
    /// stays unwritable must not hold its message back for ever).
    /// </summary>
    private void MarkDone(MarkDone m)
    {
        if (TryMark(m) is not { } owed) return;
        var path = Channels.PathOf(m.Channel, m.MessageId);
        if (Jsmail.Common.Control.Compat.IsQmail)
        {
            foreach (var _ in owed.RecordOffsets) ActivityLog.Line($"warning: trouble marking {path}; message will be delivered twice!");
            return;
        }
        ActivityLog.Line($"warning: trouble marking {path}; will try again");
        _unmarked.Add((owed, Now()));
    }

    /// <summary>The marks still to make after one try; null when all are made or the file is gone (nothing left to mark).</summary>
    private static MarkDone? TryMark(MarkDone m)
    {
        var fd = Libc.Open(Channels.PathOf(m.Channel, m.MessageId), Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        // a file gone has nothing left to mark (qmail-send warns of it even so: compat keeps that)
        if (fd < 0) return Libc.Errno == Errno.ENOENT && !Jsmail.Common.Control.Compat.IsQmail ? null : m;
        var marked = 0;
        if (Libc.Fstat(fd, out _) == 0)
            while (marked < m.RecordOffsets.Length && MarkAt(fd, m.RecordOffsets[marked])) marked++;
        Libc.Close(fd);
        return marked == m.RecordOffsets.Length ? null : m with { RecordOffsets = m.RecordOffsets[marked..] };
    }

    /// <summary>
    /// Tries the owed marks again (only those of one message's channel file
    /// when <paramref name="channel"/> is given); true when none of them is owed any more.
    /// </summary>
    private bool SettleMarks(Channel? channel = null, ulong id = 0)
    {
        var settled = true;
        var now = Now();
        for (var i = _unmarked.Count - 1; i >= 0; i--)
        {
            var (m, since) = _unmarked[i];
            if (channel != null && (m.Channel != channel || m.MessageId != id)) continue;
            if (TryMark(m) is not { } owed) { _unmarked.RemoveAt(i); continue; }
            if (now - since < OwedMarkSeconds) { _unmarked[i] = (owed, since); settled = false; continue; }
            _unmarked.RemoveAt(i);
            foreach (var _ in owed.RecordOffsets)
                ActivityLog.Line($"warning: trouble marking {Channels.PathOf(m.Channel, m.MessageId)}; message will be delivered twice!");
        }
        return settled;
    }

    private static bool MarkAt(int fd, long offset) => Libc.Lseek(fd, offset, 0) == offset && Libc.WriteOnce(fd, "D"u8) == 1;

    private void RemoveChannelFile(Channel c, ulong id)
    {
        var path = Channels.PathOf(c, id);
        if (Libc.Unlink(path) != 0)
        {
            ActivityLog.Line($"warning: unable to unlink {path}; will try again later");
            _scheduler.ChannelFileKept(c, id, Now());
            return;
        }
        _unmarked.RemoveAll(u => u.Mark.Channel == c && u.Mark.MessageId == id);
        var other = Channels.PathOf(Channels.Other(c), id);
        var otherRemains = Libc.StatPath(other, out _) == 0;
        if (!otherRemains && Libc.Errno != Errno.ENOENT) ActivityLog.Line($"warning: unable to stat {other}");
        _scheduler.ChannelFileRemoved(id, otherRemains, Now());
    }
}
