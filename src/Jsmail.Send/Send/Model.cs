using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

/// <summary>One pass over one message on one channel (qmail's job).</summary>
public sealed class Job
{
    public required ulong Id;
    public required int Channel;
    public required byte[] Sender;
    public long Retry;
    public bool Dying;
    public int Refs = 1;
    public int NumTodo;
    public bool HitEof;
}

/// <summary>A recipient of a delivery: its channel record's byte offset (for marking it done).</summary>
public readonly record struct DeliveryRecipient(byte[] Address, long RecordOffset);

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

/// <summary>The state of one channel: its spawner descriptors, slots, the command being written and the result decoder.</summary>
/// <param name="groupLimit">recipients per delivery: 1 unless the spawner announced grouped commands (remote only)</param>
public sealed class ChannelState(int index, int fdOut, int fdIn, int concurrency, int groupLimit = 1)
{
    public int Index { get; } = index;
    public int FdOut { get; } = fdOut;
    public int FdIn { get; } = fdIn;
    public int Concurrency { get; } = concurrency;
    public int GroupLimit { get; } = groupLimit;
    public readonly Delivery?[] Slots = new Delivery?[concurrency];
    public int Used;
    public bool SpawnAlive = true;
    public byte[]? Command;
    public int CommandPos;
    public readonly ResultDecoder Decoder = new();
    public readonly PriorityQueue<ulong, long> Due = new();

    public string Name => Index == 0 ? "local" : "remote";
    public int Skip => Index == 0 ? 10 : 20;
    public bool CanWrite => Command == null;
    public bool Available => SpawnAlive && CanWrite && Used < Concurrency;

    /// <summary>The pass in progress: message id (0 = none), its job and its deliveries not started yet.</summary>
    public ulong PassId;
    public Job? PassJob;
    public RecipientGroups.Plan? PassPlan;
    public int PassNext;
}
