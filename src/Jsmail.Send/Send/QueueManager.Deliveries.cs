using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

public sealed partial class QueueManager
{
    private readonly List<DeliveryResult> _results = new();
    private readonly byte[] _readBuffer = new byte[2048];

    // ------------------------------------------------------------ commands to the spawners

    private void CommDo(ChannelState c)
    {
        if (!c.SpawnAlive || c.Command == null) return;
        var w = Libc.WriteOnce(c.FdOut, c.Command.AsSpan(c.CommandPos));
        if (w <= 0)
        {
            if (w < 0 && Libc.Errno == Errno.EPIPE) SpawnDied(c);
            return;
        }
        c.CommandPos += w;
        if (c.CommandPos == c.Command.Length) { c.Command = null; c.CommandPos = 0; }
    }

    private void DeliveryStart(Job job, DeliveryRecipient recipient)
    {
        var c = _channels[job.Channel];
        if (!c.SpawnAlive || !c.CanWrite) return;
        var slot = Array.IndexOf(c.Slots, null);
        if (slot < 0) return;
        job.Refs++;
        var d = new Delivery { Job = job, DeliveryId = _masterDeliveryId++, Recipients = [recipient] };
        c.Slots[slot] = d;
        c.Used++;
        c.Command = DeliveryCommand.Encode((byte)slot, job.Id, QueueLayout.Split, job.Sender, recipient.Address);
        c.CommandPos = 0;
        ActivityLog.Line($"starting delivery {d.DeliveryId}: msg {job.Id} to {c.Name} ", recipient.Address);
        Status();
    }

    // ------------------------------------------------------------ results from the spawners

    private void DelDo(ChannelState c)
    {
        var n = Libc.Read(c.FdIn, _readBuffer);
        if (n < 0) return;
        if (n == 0) { SpawnDied(c); return; }
        _results.Clear();
        c.Decoder.Feed(_readBuffer.AsSpan(0, n), _results);
        foreach (var r in _results) Report(c, r);
    }

    private void Report(ChannelState c, DeliveryResult r)
    {
        if (r.Slot >= c.Concurrency || c.Slots[r.Slot] is not { } d)
        {
            ActivityLog.Line("warning: internal error: delivery report out of range");
            return;
        }
        var status = r.Status;
        var text = r.Text;
        if (status == 'Z' && d.Job.Dying)
        {
            status = (byte)'D';
            text = [.. text, .. BounceText.TooLong];
        }
        var recipient = d.Recipients[0];
        switch (status)
        {
            case (byte)'K':
                ActivityLog.Line($"delivery {d.DeliveryId}: success: ", text);
                MarkDone(c.Index, d.Job.Id, recipient.RecordOffset);
                d.Job.NumTodo--;
                break;
            case (byte)'Z':
                ActivityLog.Line($"delivery {d.DeliveryId}: deferral: ", text);
                break;
            case (byte)'D':
                ActivityLog.Line($"delivery {d.DeliveryId}: failure: ", text);
                AddBounce(d.Job.Id, recipient.Address, text);
                MarkDone(c.Index, d.Job.Id, recipient.RecordOffset);
                d.Job.NumTodo--;
                break;
            default:
                ActivityLog.Line($"delivery {d.DeliveryId}: report mangled, will defer");
                break;
        }
        JobClose(d.Job);
        c.Slots[r.Slot] = null;
        c.Used--;
        Status();
    }

    /// <summary>Overwrites the record's T with D: that recipient is finished.</summary>
    private static void MarkDone(int channel, ulong id, long offset)
    {
        var path = ChannelPath(channel, id);
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            var ok = Libc.Fstat(fd, out _) == 0 && Libc.Lseek(fd, offset, 0) == offset && Libc.WriteOnce(fd, "D"u8) == 1;
            Libc.Close(fd);
            if (ok) return;
        }
        ActivityLog.Line($"warning: trouble marking {path}; message will be delivered twice!");
    }

    // ------------------------------------------------------------ jobs and passes

    private void JobClose(Job job)
    {
        if (--job.Refs > 0) return;
        _openJobs--;
        var channel = _channels[job.Channel];
        var due = job.Retry;
        if (job.HitEof && job.NumTodo == 0)
        {
            var path = ChannelPath(job.Channel, job.Id);
            if (Libc.Unlink(path) != 0)
            {
                ActivityLog.Line($"warning: unable to unlink {path}; will try again later");
                due = Now() + SleepSysfail;
            }
            else
            {
                // jsmail-rspawn's parameters go with the remote channel file (most messages have none)
                if (job.Channel == 1) Libc.Unlink(RemoteParameters.PathOf(job.Id));
                var other = ChannelPath(1 - job.Channel, job.Id);
                if (Libc.StatPath(other, out _) == 0) return; // the other channel is still going
                if (Libc.Errno != Errno.ENOENT) ActivityLog.Line($"warning: unable to stat {other}");
                _done.Enqueue(job.Id, Now());
                return;
            }
        }
        channel.Due.Enqueue(job.Id, due);
    }

    private void PassSelprep(ref long wakeup)
    {
        if (_exitAsap) return;
        foreach (var c in _channels)
            if (c.PassId != 0 && c.Available) { wakeup = 0; return; }
        if (_openJobs < _numJobs)
            foreach (var c in _channels)
                if (c.PassId == 0 && c.Due.TryPeek(out _, out var due) && wakeup > due) wakeup = due;
        if (_fail.TryPeek(out _, out var f) && wakeup > f) wakeup = f;
        if (_done.TryPeek(out _, out var dn) && wakeup > dn) wakeup = dn;
    }

    private void PassDo()
    {
        foreach (var c in _channels) PassChannel(c);
        if (_fail.TryPeek(out var failId, out var f) && f <= _recent) { _fail.Dequeue(); Add(failId); }
        if (_done.TryPeek(out var doneId, out var d) && d <= _recent) { _done.Dequeue(); MessageDone(doneId); }
    }

    private void PassChannel(ChannelState c)
    {
        if (_exitAsap) return;
        if (c.PassId == 0)
        {
            if (_openJobs >= _numJobs) return;
            if (!c.Due.TryPeek(out var id, out var due) || due > _recent) return;
            c.Due.Dequeue();
            var path = ChannelPath(c.Index, id);
            var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0 || Info(id) is not var (sender, birth))
            {
                if (fd >= 0) Libc.Close(fd);
                ActivityLog.Line($"warning: trouble opening {path}; will try again later");
                c.Due.Enqueue(id, _recent + SleepSysfail);
                return;
            }
            byte[]? content;
            try { content = FdRead.All(fd); }
            catch (IOException) { content = null; }
            finally { Libc.Close(fd); }
            _openJobs++;
            var job = new Job
            {
                Id = id, Channel = c.Index, Sender = sender,
                Retry = RetrySchedule.Next(birth, _recent, c.Skip),
                Dying = _recent > birth + _controls.Lifetime,
            };
            if (content == null)
            {
                ActivityLog.Line($"warning: trouble reading {path}; will try again later");
                JobClose(job);
                return;
            }
            c.PassId = id;
            c.PassJob = job;
            c.PassContent = content;
            c.PassPos = 0;
        }

        if (!c.Available) return;
        var j = c.PassJob!;
        var rest = c.PassContent.AsSpan(c.PassPos);
        var nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            j.HitEof = true;
            EndPass(c);
            return;
        }
        var record = rest[..(nul + 1)];
        switch (record[0])
        {
            case (byte)'T':
                j.NumTodo++;
                DeliveryStart(j, new DeliveryRecipient(record[1..^1].ToArray(), c.PassPos));
                break;
            case (byte)'D':
                break;
            default:
                ActivityLog.Line($"warning: unknown record type in {ChannelPath(c.Index, c.PassId)}!");
                EndPass(c);
                return;
        }
        c.PassPos += record.Length;
    }

    private void EndPass(ChannelState c)
    {
        var j = c.PassJob!;
        c.PassId = 0;
        c.PassJob = null;
        c.PassContent = [];
        JobClose(j);
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
}
