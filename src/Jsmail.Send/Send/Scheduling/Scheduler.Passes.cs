using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send.Scheduling;

public sealed partial class Scheduler
{
    private void PassChannel(ChannelSchedule c, long now)
    {
        if (ExitAsap) return;
        if (!c.InPass)
        {
            if (_openJobs >= _numJobs) return;
            if (WaitsForSlot(c)) return;
            if (!TakeNextDue(c, now, out var id)) return;
            c.InPass = c.Opening = true;
            c.PassId = id;
            _openJobs++; // counted now: the other channel's pass, decided before the answer, must see it
            Actions.Add(new OpenPass(c.Channel, id));
            return;
        }
        if (!c.Opening) PassStep(c);
    }

    /// <summary>The channel file or the info file could not be opened (the driver says nothing): a pass again later.</summary>
    public void PassUnopenable(Channel channel, ulong id, long now)
    {
        var c = this[channel];
        EndOpening(c);
        _openJobs--;
        Log($"warning: trouble opening {Channels.PathOf(channel, id)}; will try again later");
        Schedule(c, id, now + SleepSysfail);
    }

    /// <summary>The pass's files are read: plan its deliveries and start the first.</summary>
    public void PassOpened(Channel channel, ulong id, PassFile file, long now)
    {
        var c = this[channel];
        EndOpening(c);
        var job = new Job
        {
            Id = id, Channel = channel, Sender = file.Sender,
            Retry = RetrySchedule.Next(file.Birth, now, c.Skip),
            Dying = now > file.Birth + _lifetime,
        };
        if (file.Content == null)
        {
            Log($"warning: trouble reading {Channels.PathOf(channel, id)}; will try again later");
            JobClose(job);
            return;
        }
        c.InPass = true;
        c.PassId = id;
        c.PassJob = job;
        // a VERP sender differs per recipient: each needs a delivery of its own
        c.PassPlan = RecipientGroups.Of(file.Content, Verp.IsVerp(file.Sender) ? 1 : c.GroupLimit);
        c.PassNext = 0;
        PassStep(c);
    }

    private static void EndOpening(ChannelSchedule c)
    {
        c.InPass = c.Opening = false;
        c.PassId = 0;
    }

    /// <summary>One step of the pass: the next delivery, or the end of the file.</summary>
    private void PassStep(ChannelSchedule c)
    {
        if (!c.Available) return;
        var job = c.PassJob!;
        var plan = c.PassPlan!;
        if (c.PassNext == plan.Deliveries.Count || Parked(job.Id)) // a parked message starts no further delivery
        {
            if (c.PassNext < plan.Deliveries.Count) { }
            else if (plan.UnknownRecord) Log($"warning: unknown record type in {Channels.PathOf(c.Channel, c.PassId)}!");
            else job.HitEof = true;
            c.InPass = false;
            c.PassId = 0;
            c.PassJob = null;
            c.PassPlan = null;
            JobClose(job);
            return;
        }
        var recipients = plan.Deliveries[c.PassNext++];
        job.NumTodo += recipients.Length;
        DeliveryStart(c, job, recipients);
    }

    /// <summary>Starts one delivery in the lowest free slot, with a starting line per recipient, each with its own delivery number.</summary>
    private void DeliveryStart(ChannelSchedule c, Job job, DeliveryRecipient[] recipients)
    {
        var slot = Array.IndexOf(c.Slots, null);
        if (slot < 0) return;
        job.Refs++;
        var d = new Delivery { Job = job, FirstDeliveryId = _masterDeliveryId, Recipients = recipients };
        _masterDeliveryId += (ulong)recipients.Length;
        c.Slots[slot] = d;
        c.Used++;
        c.Writing = true;
        Actions.Add(new StartDelivery(c.Channel, slot, job.Id, job.Sender, recipients));
        for (var i = 0; i < recipients.Length; i++)
            Log($"starting delivery {d.FirstDeliveryId + (ulong)i}: msg {job.Id} to {c.Name} ", recipients[i].Address);
        Status();
    }

    /// <summary>The driver wrote the whole command to the spawner: the channel can take the next.</summary>
    public void CommandWritten(Channel c) => this[c].Writing = false;

    /// <summary>
    /// The pass and every delivery of the job have ended. With every recipient
    /// done the channel file goes (the driver answers with
    /// <see cref="ChannelFileRemoved"/> or <see cref="ChannelFileKept"/>);
    /// otherwise the message is due again at the job's retry time.
    /// </summary>
    private void JobClose(Job job)
    {
        if (--job.Refs > 0) return;
        _openJobs--;
        if (job.HitEof && job.NumTodo == 0)
        {
            Actions.Add(new RemoveChannelFile(job.Channel, job.Id));
            Settle(job.Id);
        }
        else Schedule(this[job.Channel], job.Id, job.Retry);
    }

    /// <summary>Puts the message back on the channel's schedule, unless the operator parked it or asked for a rescan.</summary>
    private void Schedule(ChannelSchedule c, ulong id, long due)
    {
        if (!Settle(id)) Enqueue(c, id, due);
    }

    /// <summary>For a parked message or one waiting for a rescan, what follows once nothing of it runs; true if it was one.</summary>
    private bool Settle(ulong id)
    {
        if (Parked(id)) { ParkedJobClosed(id); return true; }
        if (!_rescan.Contains(id)) return false;
        if (!Active(id))
        {
            _rescan.Remove(id);
            Actions.Add(new ScanMessage(id));
        }
        return true;
    }
}
