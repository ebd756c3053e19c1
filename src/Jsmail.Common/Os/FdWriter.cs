using System.Buffers;

namespace Jsmail.Common.Os;

/// <summary>
/// A buffered writer onto a raw descriptor. Errors are sticky and surface at
/// Flush, as with qmail's substdio: callers check once, at the point where
/// qmail checks.
/// </summary>
public sealed class FdWriter(int fd, int bufferSize = 65536) : IBufferWriter<byte>
{
    // Uninitialised: only bytes written are flushed, and a cleared 64 KiB
    // buffer costs a short-lived program sixteen page faults and a memset.
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(bufferSize);
    private int _used;

    public int Fd => fd;
    public bool Failed { get; private set; }
    public int Errno { get; private set; }

    public void Advance(int count) => _used += count;

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(Reserve(sizeHint));
    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(Reserve(sizeHint));

    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var span = GetSpan(1);
            var n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            Advance(n);
            data = data[n..];
        }
    }

    /// <summary>Writes out the buffer; false if this or any earlier write failed.</summary>
    public bool Flush()
    {
        if (_used > 0 && !Failed && !Libc.WriteAll(fd, _buffer.AsSpan(0, _used)))
        {
            Failed = true;
            Errno = Libc.Errno;
        }
        _used = 0;
        return !Failed;
    }

    private int Reserve(int sizeHint)
    {
        if (sizeHint > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(sizeHint));
        if (_buffer.Length - _used < Math.Max(sizeHint, 1)) Flush();
        return _used;
    }
}

/// <summary>Collects bytes in memory (the envelope a content scanner is shown).</summary>
public sealed class TeeWriter(IBufferWriter<byte> first, ArrayBufferWriter<byte> copy) : IBufferWriter<byte>
{
    private Memory<byte> _pending;

    public void Advance(int count)
    {
        copy.Write(_pending.Span[..count]);
        first.Advance(count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _pending = first.GetMemory(sizeHint);
    public Span<byte> GetSpan(int sizeHint = 0) => (_pending = first.GetMemory(sizeHint)).Span;
}
