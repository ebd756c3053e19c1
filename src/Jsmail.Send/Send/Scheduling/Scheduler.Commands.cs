using Jsmail.Common.Queue;

namespace Jsmail.Send.Send.Scheduling;

/// <summary>
/// The operator's requests (docs/jsmail.md), taken as events so that they
/// never race a pass: a message that is held or waiting to be ended is
/// <em>parked</em>: it is taken out of the channels' schedules, no pass over
/// it starts another delivery, and a job of it that closes does not put it
/// back. A removal (delete, bounce) waits until no pass or delivery of the
/// message is under way, then asks the driver for <see cref="EndMessage"/>;
/// the driver's answer (<see cref="MessageEnded"/>) rescans it, and the pass
/// that follows finds every record done and completes it as usual.
/// </summary>
public sealed partial class Scheduler
{
    private readonly HashSet<ulong> _held = new();
    private readonly Dictionary<ulong, QueueCommand> _removals = new();
    private readonly HashSet<ulong> _rescan = new();

    private bool Parked(ulong id) => _held.Contains(id) || _removals.ContainsKey(id);

    /// <summary>A pass over the message (opening or under way) or a delivery of it in a spawner slot.</summary>
    private bool Active(ulong id)
    {
        foreach (var c in _channels)
        {
            if (c.InPass && c.PassId == id) return true;
            foreach (var d in c.Slots)
                if (d != null && d.Job.Id == id) return true;
        }
        return false;
    }

    /// <summary>Whether the message is held now.</summary>
    public bool IsHeld(ulong id) => _held.Contains(id);

    /// <summary>Hold: the message is delivered no more until released (its mark is on disk already).</summary>
    public void Hold(ulong id)
    {
        _held.Add(id);
        Unschedule(id);
    }

    /// <summary>Release: the message is due at once on each channel it still has a file for.</summary>
    public void Release(ulong id)
    {
        if (!_held.Remove(id) || _removals.ContainsKey(id)) return;
        Rescan(id);
    }

    /// <summary>Requeue: the message's scheduled attempts are due now. False when it is not waiting (held, under way or not preprocessed yet).</summary>
    public bool Requeue(ulong id, long now)
    {
        if (Parked(id)) return false;
        var found = false;
        foreach (var c in _channels)
        {
            var entries = Drain(c.Due);
            foreach (var (e, due) in entries)
            {
                if (e == id) found = true;
                c.Due.Enqueue(e, e == id ? now : due);
            }
            if (c.Prioritized.ContainsKey(id)) { c.Prioritized[id] = now; found = true; }
        }
        return found;
    }

    /// <summary>What a flush still has to do: passes due now or under way and deliveries in the slots.</summary>
    public int PendingNow(long now)
    {
        var n = 0;
        foreach (var c in _channels)
        {
            foreach (var (_, due) in c.Due.UnorderedItems)
                if (due <= now) n++;
            foreach (var due in c.Prioritized.Values)
                if (due <= now) n++;
            if (c.InPass) n++;
            n += c.Used;
        }
        return n;
    }

    /// <summary>Flush: every scheduled message is due now (ALRM).</summary>
    public void Flush(long now) => Alarm(now);

    /// <summary>
    /// Delete or bounce: parked now, ended as soon as nothing of it is under
    /// way; a message jsmail-todo has not reported yet (<paramref name="preprocessed"/>
    /// false) is ended when it does.
    /// </summary>
    public void Remove(QueueCommand command, bool preprocessed = true)
    {
        _removals[command.Id] = command;
        _held.Remove(command.Id); // the driver removed its mark: an ended message must complete
        Unschedule(command.Id);
        if (preprocessed && !Active(command.Id)) Actions.Add(new EndMessage(command));
    }

    /// <summary>The driver ended the message's records (or could not, logged): schedule it again, or retry the end later.</summary>
    public void MessageEnded(ulong id, bool ok, long now)
    {
        if (!ok) { _fail.Enqueue(id, now + SleepSysfail); return; } // rescanned then; still parked, so ended again below
        _removals.Remove(id);
        if (!_held.Contains(id)) Rescan(id);
    }

    /// <summary>A job of a parked message closed: end it if it waits for that; a released one is rescanned once nothing of it runs.</summary>
    private void ParkedJobClosed(ulong id)
    {
        if (Active(id)) return;
        if (_removals.TryGetValue(id, out var command)) Actions.Add(new EndMessage(command));
    }

    private void Rescan(ulong id)
    {
        if (Active(id)) _rescan.Add(id); // the job that closes last asks for the scan
        else Actions.Add(new ScanMessage(id));
    }

    /// <summary>A scanned or preprocessed message that is parked: kept out of the schedules, ended if that was asked.</summary>
    private bool KeepParked(ulong id)
    {
        if (!Parked(id)) return false;
        if (_removals.TryGetValue(id, out var command) && !Active(id)) Actions.Add(new EndMessage(command));
        return true;
    }

    private void Unschedule(ulong id)
    {
        foreach (var c in _channels)
        {
            var entries = Drain(c.Due);
            foreach (var (e, due) in entries)
                if (e != id) c.Due.Enqueue(e, due);
            c.Prioritized.Remove(id);
        }
    }

    private static List<(ulong Id, long Due)> Drain(PriorityQueue<ulong, long> queue)
    {
        var entries = new List<(ulong, long)>(queue.Count);
        while (queue.TryDequeue(out var id, out var due)) entries.Add((id, due));
        return entries;
    }
}
