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

    /// <summary>
    /// Starts one delivery in the lowest free slot: qmail's command for one
    /// recipient, a grouped command for several; a starting line per recipient,
    /// each with its own delivery number.
    /// </summary>
    private void DeliveryStart(Job job, DeliveryRecipient[] recipients)
    {
        var c = _channels[job.Channel];
        if (!c.SpawnAlive || !c.CanWrite) return;
        var slot = Array.IndexOf(c.Slots, null);
        if (slot < 0) return;
        job.Refs++;
        var d = new Delivery { Job = job, FirstDeliveryId = _masterDeliveryId, Recipients = recipients };
        _masterDeliveryId += (ulong)recipients.Length;
        c.Slots[slot] = d;
        c.Used++;
        c.Command = recipients.Length == 1
            ? DeliveryCommand.Encode((byte)slot, job.Id, QueueLayout.Split, job.Sender, recipients[0].Address)
            : GroupedDelivery.EncodeCommand((byte)slot, job.Id, QueueLayout.Split, job.Sender, Array.ConvertAll(recipients, r => r.Address));
        c.CommandPos = 0;
        for (var i = 0; i < recipients.Length; i++)
            ActivityLog.Line($"starting delivery {d.FirstDeliveryId + (ulong)i}: msg {job.Id} to {c.Name} ", recipients[i].Address);
        Status();
    }

    // ------------------------------------------------------------ results from the spawners

    private void DelDo(ChannelState c)
    {
        var n = Libc.Read(c.FdIn, _readBuffer);
        if (n < 0) return;
        if (n == 0) { SpawnDied(c); return; }
        Results(c, _readBuffer.AsSpan(0, n));
    }

    private void Results(ChannelState c, ReadOnlySpan<byte> bytes)
    {
        _results.Clear();
        c.Decoder.Feed(bytes, _results);
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
        // a grouped delivery's results come one per recipient, in order
        var recipient = d.Recipients[d.Reported];
        var deliveryId = d.FirstDeliveryId + (ulong)d.Reported++;
        switch (status)
        {
            case (byte)'K':
                ActivityLog.Line($"delivery {deliveryId}: success: ", text);
                MarkDone(c.Index, d.Job.Id, recipient.RecordOffset);
                d.Job.NumTodo--;
                break;
            case (byte)'Z':
                ActivityLog.Line($"delivery {deliveryId}: deferral: ", text);
                break;
            case (byte)'D':
                ActivityLog.Line($"delivery {deliveryId}: failure: ", text);
                AddBounce(d.Job.Id, recipient.Address, text);
                MarkDone(c.Index, d.Job.Id, recipient.RecordOffset);
                d.Job.NumTodo--;
                break;
            default:
                ActivityLog.Line($"delivery {deliveryId}: report mangled, will defer");
                break;
        }
        if (d.Reported < d.Recipients.Length) return;
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
            // a VERP sender differs per recipient: each needs a delivery of its own
            c.PassPlan = RecipientGroups.Of(content, Verp.IsVerp(sender) ? 1 : c.GroupLimit);
            c.PassNext = 0;
        }

        if (!c.Available) return;
        var j = c.PassJob!;
        var plan = c.PassPlan!;
        if (c.PassNext == plan.Deliveries.Count)
        {
            if (plan.UnknownRecord) ActivityLog.Line($"warning: unknown record type in {ChannelPath(c.Index, c.PassId)}!");
            else j.HitEof = true;
            EndPass(c);
            return;
        }
        var recipients = plan.Deliveries[c.PassNext++];
        j.NumTodo += recipients.Length;
        DeliveryStart(j, recipients);
    }

    private void EndPass(ChannelState c)
    {
        var j = c.PassJob!;
        c.PassId = 0;
        c.PassJob = null;
        c.PassPlan = null;
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
