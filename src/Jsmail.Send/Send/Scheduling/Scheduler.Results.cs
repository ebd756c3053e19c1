using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send.Scheduling;

public sealed partial class Scheduler
{
    private readonly List<(ulong Id, long Offset)> _marks = new();
    private readonly List<Job> _closing = new();
    private readonly List<(ulong Id, DeferredRecipient Recipient)> _deferrals = new();

    /// <summary>Each recipient's result as taken (K, Z, or D: a dying job's Z is a D), with its slot: for the metrics.</summary>
    public Action<Channel, int, byte>? Reported { get; set; }

    /// <summary>
    /// The results the driver read from a spawner at once. Each is logged,
    /// bounced and its slot freed in order; the records they finish are then
    /// marked done with one <see cref="MarkDone"/> per channel file (results of
    /// a grouped delivery, or of several deliveries of one message, arrive
    /// together), and only after that are the jobs they end closed, so a
    /// channel file is never removed before its marks are written. The
    /// deferrals among them come last, one <see cref="WarnDelay"/> per message.
    /// </summary>
    public void Results(Channel channel, IReadOnlyList<DeliveryResult> results)
    {
        var c = this[channel];
        foreach (var r in results) Report(c, r);
        FlushMarks(channel);
        foreach (var job in _closing) JobClose(job);
        _closing.Clear();
        FlushDeferrals();
    }

    private void Report(ChannelSchedule c, DeliveryResult r)
    {
        if (r.Slot >= c.Concurrency || c.Slots[r.Slot] is not { } d)
        {
            Log("warning: internal error: delivery report out of range");
            return;
        }
        var status = r.Status;
        var text = r.Text;
        if (status == 'Z' && d.Job.Dying)
        {
            status = (byte)'D';
            text = [.. text, .. BounceText.TooLong];
        }
        Reported?.Invoke(c.Channel, r.Slot, status);
        // a grouped delivery's results come one per recipient, in order
        var recipient = d.Recipients[d.Reported];
        var deliveryId = d.FirstDeliveryId + (ulong)d.Reported++;
        switch (status)
        {
            case (byte)'K':
                Log($"delivery {deliveryId}: success: ", text);
                // the driver keeps it for a success report if one was asked for (a remote one only if relayed)
                Actions.Add(new RecordSuccess(d.Job.Id, c.Channel, recipient.Address, text));
                _marks.Add((d.Job.Id, recipient.RecordOffset));
                d.Job.NumTodo--;
                break;
            case (byte)'Z':
                Log($"delivery {deliveryId}: deferral: ", text);
                _deferrals.Add((d.Job.Id, new DeferredRecipient(recipient.Address, text)));
                break;
            case (byte)'D':
                Log($"delivery {deliveryId}: failure: ", text);
                Actions.Add(new AppendBounce(d.Job.Id, recipient.Address, text));
                _marks.Add((d.Job.Id, recipient.RecordOffset));
                d.Job.NumTodo--;
                break;
            default:
                Log($"delivery {deliveryId}: report mangled, will defer");
                break;
        }
        if (d.Reported < d.Recipients.Length) return;
        _closing.Add(d.Job);
        c.Slots[r.Slot] = null;
        c.Used--;
        Status();
    }

    /// <summary>The deferrals of the results that came together, one <see cref="WarnDelay"/> per message in the order they came.</summary>
    private void FlushDeferrals()
    {
        foreach (var id in _deferrals.Select(x => x.Id).Distinct().ToList())
            Actions.Add(new WarnDelay(id, _deferrals.Where(x => x.Id == id).Select(x => x.Recipient).ToArray()));
        _deferrals.Clear();
    }

    /// <summary>One <see cref="MarkDone"/> per channel file (results come from one channel), offsets in the order the results came.</summary>
    private void FlushMarks(Channel channel)
    {
        var files = new List<(ulong Id, List<long> Offsets)>();
        foreach (var (id, offset) in _marks)
        {
            var f = files.FindIndex(x => x.Id == id);
            if (f < 0) files.Add((id, [offset]));
            else files[f].Offsets.Add(offset);
        }
        foreach (var (id, offsets) in files) Actions.Add(new MarkDone(channel, id, offsets.ToArray()));
        _marks.Clear();
    }
}
