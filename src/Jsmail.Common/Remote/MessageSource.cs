using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

/// <summary>
/// The message on fd 0, sent from where fd 0 stands. When it is a file (the
/// spawners give the queue file) its size is known, and whether it holds 8-bit
/// bytes is found on demand (only a peer offering 8BITMIME asks).
/// </summary>
public sealed class MessageSource
{
    private readonly int _fd;
    private readonly long _start = -1;
    private bool? _eightBit;

    public long? Size { get; }

    /// <param name="fd">the message (jsmail-remote: fd 0; jsmail-rspawn's pool: its own copy of the queue file's)</param>
    public MessageSource(int fd = 0)
    {
        _fd = fd;
        if (Libc.Fstat(fd, out var st) != 0 || !st.IsRegular) return;
        _start = Libc.Lseek(fd, 0, 1 /* SEEK_CUR */);
        if (_start >= 0) Size = st.Size - _start;
    }

    public bool HasEightBit => _eightBit ??= ScanForEightBit();

    /// <summary>
    /// True when the message is a file whose last byte ends no line, which
    /// DataEncoder would refuse at the end (a trailing lone CR counts as a line
    /// end there, an empty message is a dot alone); false when not a file.
    /// </summary>
    public bool EndsInPartialLine
    {
        get
        {
            if (Size is not > 0) return false;
            Span<byte> last = stackalloc byte[1];
            var read = Libc.Lseek(_fd, _start + Size.Value - 1, 0) >= 0 && Libc.Read(_fd, last) == 1;
            Rewind();
            return read && last[0] is not ((byte)'\n' or (byte)'\r');
        }
    }

    private bool ScanForEightBit()
    {
        if (_start < 0) return false;
        var buf = GC.AllocateUninitializedArray<byte>(65536);
        int n;
        var found = false;
        while (!found && (n = Libc.Read(_fd, buf)) > 0)
            found = buf.AsSpan(0, n).IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0;
        Rewind();
        return found;
    }

    /// <summary>
    /// Up to <paramref name="buffer"/>'s length from the start of the message,
    /// leaving the position where it was; 0 when the message is not a file.
    /// </summary>
    public int ReadHead(Span<byte> buffer)
    {
        if (_start < 0) return 0;
        var total = 0;
        int n;
        while (total < buffer.Length && (n = Libc.Read(_fd, buffer[total..])) > 0) total += n;
        Rewind();
        return total;
    }

    public void Rewind()
    {
        if (_start >= 0) Libc.Lseek(_fd, _start, 0);
    }

    public int Read(Span<byte> buffer) => Libc.Read(_fd, buffer);
}
