using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// Where <see cref="QueueCommit"/> reads a message or an envelope from:
/// jsmail-queue's pipes (fds 0 and 1), or what jsmail-queued was handed (a
/// message descriptor and the envelope's bytes).
/// </summary>
public abstract class QueueInput
{
    /// <summary>Bytes read, 0 at the end, -1 on error.</summary>
    public abstract int Read(Span<byte> buffer);

    /// <summary>False when nothing arrives within the time: the caller stopped without closing.</summary>
    public abstract bool WaitReadable(int timeoutMs);
}

/// <summary>A descriptor read with read(2): a pipe from the caller.</summary>
public sealed class FdQueueInput(int fd) : QueueInput
{
    public override int Read(Span<byte> buffer) => Libc.Read(fd, buffer);

    public override bool WaitReadable(int timeoutMs)
    {
        Span<Libc.PollFd> pfd = [new Libc.PollFd { Fd = fd, Events = Libc.POLLIN }];
        return Libc.Poll(pfd, timeoutMs) > 0;
    }
}

/// <summary>
/// A file read from its start with pread(2), whatever its offset: a memfd
/// passed over a socket shares its offset with the sender, who may still hold it.
/// </summary>
public sealed class FileQueueInput(int fd) : QueueInput
{
    private long _offset;

    public long BytesRead => _offset;

    public override int Read(Span<byte> buffer)
    {
        var n = Libc.Pread(fd, buffer, _offset);
        if (n > 0) _offset += n;
        return n;
    }

    public override bool WaitReadable(int timeoutMs) => true;
}

/// <summary>Bytes already in memory; their end is the end of input.</summary>
public sealed class BytesQueueInput(ReadOnlyMemory<byte> data) : QueueInput
{
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, data.Length - _position);
        data.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override bool WaitReadable(int timeoutMs) => true;
}
