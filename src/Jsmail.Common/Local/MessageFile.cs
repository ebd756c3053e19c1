using Jsmail.Common.Message;
using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>Takes one chunk of the message; false stops the reading.</summary>
public delegate bool ChunkSink(ReadOnlySpan<byte> chunk);

/// <summary>The message on <paramref name="fd"/> (qmail-local's fd 0): a seekable file, rewound for every instruction.</summary>
public sealed class MessageFile(int fd = 0)
{
    public int Fd => fd;

    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used

    public const string RewindFailed = "Unable to rewind message. (#4.3.0)";

    public void Rewind()
    {
        if (Libc.Lseek(fd, 0, Libc.SEEK_SET) != 0) throw LocalFailure.Temporary(RewindFailed);
    }

    /// <summary>Calls <paramref name="sink"/> with every chunk from the start; false with the errno on a read error.</summary>
    public bool CopyTo(ChunkSink sink, out int errno)
    {
        Rewind();
        while (true)
        {
            var n = Libc.Read(fd, _buffer);
            if (n == 0) { errno = 0; return true; }
            if (n < 0) { errno = Libc.Errno; return false; }
            if (!sink(_buffer.AsSpan(0, n))) { errno = 0; return true; }
        }
    }

    /// <summary>Whether a header line equals <paramref name="dtLine"/> (interfaces §5.4).</summary>
    public bool HasHeaderLine(ReadOnlySpan<byte> dtLine)
    {
        var found = false;
        var wanted = dtLine.ToArray();
        // A line longer than the one wanted is cut one byte past its length: unequal still.
        var header = new HeaderReader(HeaderLineEnds.Lf, lineLimit: wanted.Length + 1);
        HeaderLineSink compare = line => !(found = line.SequenceEqual(wanted));
        var ok = CopyTo(chunk =>
        {
            header.Feed(chunk, compare);
            return !header.Done;
        }, out var errno);
        if (!ok) throw LocalFailure.Temporary($"Unable to read message: {ErrorText.Describe(errno)}. (#4.3.0)");
        return found;
    }
}
