namespace Jsmail.Inject;

/// <summary>Reading the message failed (qmail-inject: "read error").</summary>
public sealed class MessageReadException(int errno) : IOException("read error", errno)
{
    public int Errno { get; } = errno;
}

/// <summary>
/// The message as qmail's getln reads it: lines ending in LF, a last line
/// without LF given one. The body can then be copied in blocks.
/// </summary>
public sealed class MessageInput(Func<byte[], int, int, int> read)
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used
    private int _start, _end;
    private bool _eof;

    /// <summary>A reader over a descriptor (stdin).</summary>
    public static MessageInput FromFd(int fd) => new((buf, offset, count) =>
    {
        var n = Jsmail.Common.Os.Libc.Read(fd, buf.AsSpan(offset, count));
        return n < 0 ? throw new MessageReadException(Jsmail.Common.Os.Libc.Errno) : n;
    });

    public static MessageInput FromBytes(byte[] message)
    {
        var pos = 0;
        return new MessageInput((buf, offset, count) =>
        {
            var n = Math.Min(count, message.Length - pos);
            message.AsSpan(pos, n).CopyTo(buf.AsSpan(offset));
            pos += n;
            return n;
        });
    }

    private bool Fill()
    {
        if (_eof) return false;
        if (_start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            if (_start == 0) return true; // full: the caller takes what is there
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var n = read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) { _eof = true; return false; }
        _end += n;
        return true;
    }

    /// <summary>The next line with its LF (added if the input ends without one); null at the end.</summary>
    public byte[]? ReadLine()
    {
        List<byte>? partial = null;
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = span[..(lf + 1)];
                _start += lf + 1;
                if (partial == null) return line.ToArray();
                partial.AddRange(line);
                return partial.ToArray();
            }
            if (!span.IsEmpty)
            {
                (partial ??= new List<byte>(span.Length * 2)).AddRange(span);
                _start = _end;
            }
            if (!Fill())
            {
                if (partial == null || partial.Count == 0) return null;
                partial.Add((byte)'\n');
                return partial.ToArray();
            }
        }
    }

    /// <summary>Copies the rest of the input to <paramref name="sink"/>, adding a final LF if missing.</summary>
    public void CopyRest(Action<ReadOnlySpan<byte>> sink)
    {
        byte last = (byte)'\n';
        while (true)
        {
            if (_end > _start)
            {
                var span = _buffer.AsSpan(_start, _end - _start);
                sink(span);
                last = span[^1];
                _start = _end;
            }
            if (!Fill()) break;
        }
        if (last != '\n') sink("\n"u8);
    }
}
