using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

/// <summary>jsmail-send's end of one spawner's pipes: the command being written and the decoder of its results.</summary>
public sealed class SpawnerLink(int fdOut, int fdIn)
{
    public int FdOut => fdOut;
    public int FdIn => fdIn;
    public byte[]? Command { get; private set; }
    public readonly ResultDecoder Decoder = new();
    private int _written;

    public bool MakeNonBlocking() =>
        Libc.Fcntl(fdOut, Libc.F_SETFL, Libc.Fcntl(fdOut, Libc.F_GETFL, 0) | Libc.O_NONBLOCK) >= 0;

    /// <summary>qmail's command for one recipient, a grouped command (docs/spawn-protocol.md) for several.</summary>
    public void Queue(StartDelivery s)
    {
        Command = s.Recipients.Length == 1
            ? DeliveryCommand.Encode((byte)s.Slot, s.MessageId, QueueLayout.Split, s.Sender, s.Recipients[0].Address)
            : GroupedDelivery.EncodeCommand((byte)s.Slot, s.MessageId, QueueLayout.Split, s.Sender, Array.ConvertAll(s.Recipients, r => r.Address));
        _written = 0;
    }

    public enum WriteOutcome { Partial, Done, Lost }

    /// <summary>One write of what remains of the command.</summary>
    public WriteOutcome Write()
    {
        var w = Libc.WriteOnce(fdOut, Command.AsSpan(_written));
        if (w <= 0) return w < 0 && Libc.Errno == Errno.EPIPE ? WriteOutcome.Lost : WriteOutcome.Partial;
        _written += w;
        if (_written < Command!.Length) return WriteOutcome.Partial;
        Command = null;
        _written = 0;
        return WriteOutcome.Done;
    }
}
