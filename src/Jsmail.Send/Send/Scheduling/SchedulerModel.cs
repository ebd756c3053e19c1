namespace Jsmail.Send.Send.Scheduling;

/// <summary>One pass over one message on one channel (qmail's job).</summary>
public sealed class Job
{
    public required ulong Id;
    public required Channel Channel;
    public required byte[] Sender;
    public long Retry;
    public bool Dying;
    public int Refs = 1;
    public int NumTodo;
    public bool HitEof;
}

/// <summary>
/// A delivery in a spawner slot: one recipient (qmail's protocol), or several
/// at one domain (a grouped command, docs/spawn-protocol.md). Each recipient
/// has its own delivery number in the log, <see cref="FirstDeliveryId"/> + its
/// index, and its own result; results come in recipient order.
/// </summary>
public sealed class Delivery
{
    public required Job Job;
    public required ulong FirstDeliveryId;
    public required DeliveryRecipient[] Recipients;
    public int Reported;
}

/// <summary>
/// The scheduling state of one channel: its slots, whether a command is being
/// written, the messages due on it (id and time only: a queued message costs
/// one entry here until its pass) and the pass in progress.
/// </summary>
/// <param name="groupLimit">recipients per delivery: 1 unless the spawner announced grouped commands (remote only)</param>
public sealed class ChannelSchedule(Channel channel, int concurrency, int groupLimit)
{
    public Channel Channel { get; } = channel;
    public int Concurrency { get; } = concurrency;
    public int GroupLimit { get; } = groupLimit;
    public readonly Delivery?[] Slots = new Delivery?[concurrency];
    public int Used;
    public bool SpawnAlive = true;
    public bool Writing;
    public readonly PriorityQueue<ulong, long> Due = new();
    /// <summary>
    /// Messages with an MT-PRIORITY other than 0 (RFC 6710) and their due
    /// times, kept out of <see cref="Due"/>: few, so choosing among them by a
    /// walk costs nothing when none has one (qmail's order, unchanged).
    /// </summary>
    public readonly Dictionary<ulong, long> Prioritized = new();

    /// <summary>Messages waiting for a pass on this channel.</summary>
    public int Waiting => Due.Count + Prioritized.Count;

    public string Name => Channel == Channel.Local ? "local" : "remote";
    /// <summary>qmail's retry step: attempts at birth + (k·skip)².</summary>
    public int Skip => Channel == Channel.Local ? 10 : 20;
    public bool Available => SpawnAlive && !Writing && Used < Concurrency;

    /// <summary>The pass in progress: its message (Opening until the driver answers OpenPass), job and deliveries not started yet.</summary>
    public bool InPass;
    public bool Opening;
    public ulong PassId;
    public Job? PassJob;
    public RecipientGroups.Plan? PassPlan;
    public int PassNext;
}
