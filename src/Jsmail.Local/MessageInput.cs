using Jsmail.Common.Os;

namespace Jsmail.Local;

/// <summary>Takes one chunk of the message; false stops the reading.</summary>
public delegate bool ChunkSink(ReadOnlySpan<byte> chunk);

/// <summary>The message on fd 0: a seekable file, rewound for every instruction.</summary>
public sealed class MessageInput
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used

    public const string RewindFailed = "Unable to rewind message. (#4.3.0)";

    public void Rewind()
    {
        if (Libc.Lseek(0, 0, Libc.SEEK_SET) != 0) throw LocalFailure.Temporary(RewindFailed);
    }

    /// <summary>Calls <paramref name="sink"/> with every chunk from the start; false with the errno on a read error.</summary>
    public bool CopyTo(ChunkSink sink, out int errno)
    {
        Rewind();
        while (true)
        {
            var n = Libc.Read(0, _buffer);
            if (n == 0) { errno = 0; return true; }
            if (n < 0) { errno = Libc.Errno; return false; }
            if (!sink(_buffer.AsSpan(0, n))) { errno = 0; return true; }
        }
    }

    /// <summary>Whether a header line equals <paramref name="dtLine"/> (interfaces §5.4).</summary>
    public bool HasHeaderLine(ReadOnlySpan<byte> dtLine)
    {
        var line = new List<byte>();
        var found = false;
        var wanted = dtLine.ToArray();
        var ok = CopyTo(chunk =>
        {
            foreach (var b in chunk)
            {
                line.Add(b);
                if (b != (byte)'\n') continue;
                if (line.Count <= 1) return false; // the blank line ending the header
                if (line.Count == wanted.Length && wanted.AsSpan().SequenceEqual(line.ToArray())) found = true;
                line.Clear();
            }
            return !found;
        }, out var errno);
        if (!ok) throw LocalFailure.Temporary($"Unable to read message: {ErrorText.Describe(errno)}. (#4.3.0)");
        return found;
    }
}
