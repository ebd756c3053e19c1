using System.Text;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>
/// Drives a <see cref="Scheduler"/> with scripted events and no queue on
/// disk: channel files live in <see cref="Files"/>; the answers to the
/// scheduler's questions (open a pass, remove a channel file) come from them,
/// and every action is kept in <see cref="Done"/> in the order it came.
/// </summary>
public sealed class SchedulerScript
{
    public const long Birth = 1_000_000;

    public readonly Scheduler Scheduler;
    public readonly Dictionary<(Channel, ulong), byte[]> Files = new();
    public readonly Dictionary<ulong, byte[]> Senders = new();
    public readonly List<SchedulerAction> Done = new();
    public long Now = Birth;

    public SchedulerScript(int local = 10, int remote = 20, int remoteGroup = 1, long lifetime = 604800) =>
        Scheduler = new Scheduler([local, remote], [1, remoteGroup], lifetime);

    public static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>A message as jsmail-todo leaves it: a channel file of T records, reported with <c>D&lt;code&gt;</c>.</summary>
    public void Queue(ulong id, Channel channel, params string[] recipients)
    {
        Files[(channel, id)] = B(string.Concat(recipients.Select(r => "T" + r + "\0")));
        Senders[id] = B("s@sender.test");
        Scheduler.TodoDone(channel == Channel.Local ? (byte)'L' : (byte)'R', id, Now);
        Drain();
    }

    /// <summary>The byte offset of a recipient's T record in its channel file.</summary>
    public long Offset(Channel c, ulong id, string recipient) =>
        Files[(c, id)].AsSpan().IndexOf(B("T" + recipient + "\0"));

    public void Tick() { Scheduler.Tick(Now); Drain(); }

    /// <summary>Writes every command and ticks, as the driver's loop does, until the scheduler has nothing to do now; bounded.</summary>
    public void Settle()
    {
        for (var turn = 0; turn < 1000; turn++)
        {
            var before = Done.Count;
            foreach (var c in Channels.Both) Scheduler.CommandWritten(c);
            Tick();
            if (Done.Count == before && Scheduler.Wakeup(Now) > Now) return;
        }
        throw new InvalidOperationException("the scheduler did not settle");
    }

    public void Result(Channel c, int slot, char status, string text = "ok")
    {
        Scheduler.Results(c, [new DeliveryResult((byte)slot, (byte)status, B(text))]);
        Drain();
    }

    public void Results(Channel c, params DeliveryResult[] results)
    {
        Scheduler.Results(c, results);
        Drain();
    }

    public void Drain()
    {
        for (var round = 0; round < 10_000 && Scheduler.Actions.Count > 0; round++)
            foreach (var a in Scheduler.TakeActions())
            {
                Done.Add(a);
                Answer(a);
            }
    }

    private void Answer(SchedulerAction a)
    {
        switch (a)
        {
            case OpenPass p:
                if (Files.TryGetValue((p.Channel, p.MessageId), out var content))
                    Scheduler.PassOpened(p.Channel, p.MessageId, new PassFile(Senders[p.MessageId], Birth, content), Now);
                else Scheduler.PassUnopenable(p.Channel, p.MessageId, Now);
                break;
            case MarkDone m:
                foreach (var offset in m.RecordOffsets) Files[(m.Channel, m.MessageId)][offset] = (byte)'D';
                break;
            case RemoveChannelFile r:
                Files.Remove((r.Channel, r.MessageId));
                Scheduler.ChannelFileRemoved(r.MessageId, Files.ContainsKey((Channels.Other(r.Channel), r.MessageId)), Now);
                break;
            case EndMessage e: // the operator's delete or bounce: every pending record done
                foreach (var c in Channels.Both)
                    if (Files.TryGetValue((c, e.Command.Id), out var records))
                        for (var i = 0; i < records.Length; i++)
                            if (records[i] == 'T' && (i == 0 || records[i - 1] == 0)) records[i] = (byte)'D';
                Scheduler.MessageEnded(e.Command.Id, true, Now);
                break;
            case ScanMessage m:
                Scheduler.MessageScanned(m.MessageId, new ScannedMessage(true, false,
                    Files.ContainsKey((Channel.Local, m.MessageId)) ? Now : null,
                    Files.ContainsKey((Channel.Remote, m.MessageId)) ? Now : null), Now);
                break;
        }
    }

    public List<T> All<T>() where T : SchedulerAction => Done.OfType<T>().ToList();

    public List<string> Log => Done.OfType<LogLine>().Select(l => l.Text + (l.Tail == null ? "" : Encoding.Latin1.GetString(l.Tail))).ToList();

    public static string[] Addresses(StartDelivery s) => s.Recipients.Select(r => Encoding.Latin1.GetString(r.Address)).ToArray();

    public void Clear() => Done.Clear();
}
