using Jsmail.Common.Queue;

namespace Jsmail.Send.Send.Scheduling;

/// <summary>qmail-send's two channels; the value is qmail's channel number.</summary>
public enum Channel { Local = 0, Remote = 1 }

public static class Channels
{
    public static readonly Channel[] Both = [Channel.Local, Channel.Remote];

    public static string PathOf(Channel c, ulong id) => c == Channel.Local ? QueueLayout.Local(id) : QueueLayout.Remote(id);

    public static Channel Other(Channel c) => c == Channel.Local ? Channel.Remote : Channel.Local;
}

/// <summary>A recipient of a delivery: its channel record's byte offset (for marking it done).</summary>
public readonly record struct DeliveryRecipient(byte[] Address, long RecordOffset);

/// <summary>What the files of a message said when it was scanned (qmail's pqadd): null mtime = no such channel file.</summary>
public readonly record struct ScannedMessage(bool HasInfo, bool HasTodo, long? LocalMtime, long? RemoteMtime);

/// <summary>An opened channel file for a pass: the info file's sender and the message's birth; Content null when it could not be read.</summary>
public sealed record PassFile(byte[] Sender, long Birth, byte[]? Content);

/// <summary>
/// What the scheduler asks its driver to do, in order. Actions that ask a
/// question (<see cref="OpenPass"/>, <see cref="RemoveChannelFile"/>,
/// <see cref="CompleteMessage"/>, <see cref="ScanMessage"/>) are answered by
/// the named event before the driver goes on to the next action.
/// </summary>
public abstract record SchedulerAction;

/// <summary>One activity log line: <c>Text</c>, then the log-safe <c>Tail</c> if any.</summary>
public sealed record LogLine(string Text, byte[]? Tail = null) : SchedulerAction;

/// <summary>Write a delivery command (one recipient: qmail's; several: grouped) for this slot to the channel's spawner; answer <see cref="Scheduler.CommandWritten"/>.</summary>
public sealed record StartDelivery(Channel Channel, int Slot, ulong MessageId, byte[] Sender, DeliveryRecipient[] Recipients) : SchedulerAction;

/// <summary>Overwrite the T of each record at these offsets with D: one open of the file for all the results that came together.</summary>
public sealed record MarkDone(Channel Channel, ulong MessageId, long[] RecordOffsets) : SchedulerAction;

/// <summary>Append a permanent failure to bounce/&lt;id&gt;, before its recipient is marked done.</summary>
public sealed record AppendBounce(ulong MessageId, byte[] Recipient, byte[] Report) : SchedulerAction;

/// <summary>A delivery succeeded: keep it for the message's success report if its recipient asked for one (NOTIFY=SUCCESS; a remote one only when relayed to a peer without DSN), before it is marked done.</summary>
public sealed record RecordSuccess(ulong MessageId, Channel Channel, byte[] Recipient, byte[] Report) : SchedulerAction;

/// <summary>A recipient deferred, with the spawner's report.</summary>
public sealed record DeferredRecipient(byte[] Address, byte[] Report);

/// <summary>Recipients of a message deferred: send its one delay warning if it is due (control/delaywarningtime) and asked for.</summary>
public sealed record WarnDelay(ulong MessageId, DeferredRecipient[] Recipients) : SchedulerAction;

/// <summary>Read the channel file and the info file; answer <see cref="Scheduler.PassOpened"/> or <see cref="Scheduler.PassUnopenable"/>.</summary>
public sealed record OpenPass(Channel Channel, ulong MessageId) : SchedulerAction;

/// <summary>Every recipient is done: unlink the channel file; answer <see cref="Scheduler.ChannelFileRemoved"/> or <see cref="Scheduler.ChannelFileKept"/>.</summary>
public sealed record RemoveChannelFile(Channel Channel, ulong MessageId) : SchedulerAction;

/// <summary>qmail's messdone: send the bounce if any, remove the message; answer <see cref="Scheduler.CompleteFailed"/> if it must be tried again.</summary>
public sealed record CompleteMessage(ulong MessageId) : SchedulerAction;

/// <summary>Stat the message's files; answer <see cref="Scheduler.MessageScanned"/> or <see cref="Scheduler.ScanFailed"/>.</summary>
public sealed record ScanMessage(ulong MessageId) : SchedulerAction;

/// <summary>HUP: re-read locals and virtualdomains and pass the HUP on to jsmail-todo.</summary>
public sealed record RereadControls : SchedulerAction;

/// <summary>At exit: the channel file's next attempt becomes its atime and mtime.</summary>
public sealed record SetNextAttempt(Channel Channel, ulong MessageId, long Due) : SchedulerAction;

/// <summary>The operator's delete or bounce: end every pending record of the message (docs/jsmail.md); answer <see cref="Scheduler.MessageEnded"/>.</summary>
public sealed record EndMessage(QueueCommand Command) : SchedulerAction;
