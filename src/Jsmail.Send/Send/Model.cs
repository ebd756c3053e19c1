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
/// A delivery in a spawner slot. It holds a list of recipients so that a
/// protocol carrying several recipients of one domain can fill it; qmail's
/// protocol, the only one spoken now, puts exactly one in it.
/// </summary>
public sealed class Delivery
{
    public required Job Job;
    public required ulong DeliveryId;
    public required DeliveryRecipient[] Recipients;
}

/// <summary>The state of one channel: its spawner descriptors, slots, the command being written and the result decoder.</summary>
public sealed class ChannelState(int index, int fdOut, int fdIn, int concurrency)
{
    public int Index { get; } = index;
    public int FdOut { get; } = fdOut;
    public int FdIn { get; } = fdIn;
    public int Concurrency { get; } = concurrency;
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

    /// <summary>The pass in progress: message id (0 = none), its job and the channel file read into memory.</summary>
    public ulong PassId;
    public Job? PassJob;
    public byte[] PassContent = [];
    public int PassPos;
}
