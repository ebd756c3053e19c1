namespace Jsmail.Inject;

/// <summary>Reading the message failed (qmail-inject: "read error").</summary>
public sealed class MessageReadException(int errno) : IOException("read error", errno)
{
    public int Errno { get; } = errno;
}

/// <summary>The message as it comes in, chunk by chunk: from a descriptor (stdin) or, in tests, from bytes.</summary>
public sealed class MessageChunks(Func<byte[], int, int, int> read)
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used
    private bool _eof;

    /// <summary>A reader over a descriptor (stdin).</summary>
    public static MessageChunks FromFd(int fd) => new((buf, offset, count) =>
    {
        var n = Jsmail.Common.Os.Libc.Read(fd, buf.AsSpan(offset, count));
        return n < 0 ? throw new MessageReadException(Jsmail.Common.Os.Libc.Errno) : n;
    });

    public static MessageChunks FromBytes(byte[] message)
    {
        var pos = 0;
        return new MessageChunks((buf, offset, count) =>
        {
            var n = Math.Min(count, message.Length - pos);
            message.AsSpan(pos, n).CopyTo(buf.AsSpan(offset));
            pos += n;
            return n;
        });
    }

    /// <summary>The next chunk, valid until the next call; empty at the end of the input, which is not read past.</summary>
    public ReadOnlySpan<byte> Next()
    {
        if (_eof) return default;
        var n = read(_buffer, 0, _buffer.Length);
        _eof = n == 0;
        return _buffer.AsSpan(0, n);
    }
}
