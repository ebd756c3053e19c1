namespace Jsmail.Common.Os;

/// <summary>
/// A pair of fds (fds 0 and 1 of a program under tcpserver, or one socket twice)
/// as one Stream, for SslStream. Every read and write waits at most
/// <see cref="TimeoutSeconds"/>; a timeout is an IOException with
/// <see cref="TimedOut"/> set, so the caller can answer it as qmail does.
/// The fds stay open when the stream is disposed: they belong to the caller.
/// </summary>
public sealed class FdStream(int inFd, int outFd, int timeoutSeconds) : Stream
{
    public bool TimedOut { get; private set; }

    public int TimeoutSeconds { get; set; } = timeoutSeconds;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        Wait(inFd, Libc.POLLIN);
        var n = Libc.Read(inFd, buffer);
        if (n < 0) throw new IOException("read failed");
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            Wait(outFd, Libc.POLLOUT);
            var n = Libc.WriteOnce(outFd, buffer);
            if (n <= 0) throw new IOException("write failed");
            buffer = buffer[n..];
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private void Wait(int fd, short events)
    {
        Span<Libc.PollFd> p = stackalloc Libc.PollFd[1];
        p[0] = new Libc.PollFd { Fd = fd, Events = events };
        if (Libc.Poll(p, (int)Math.Min(TimeoutSeconds * 1000L, int.MaxValue)) > 0) return;
        TimedOut = true;
        throw new IOException("timeout");
    }
}
