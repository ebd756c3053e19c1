using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Jsmail.Common.Os;
using Microsoft.Win32.SafeHandles;

namespace Jsmail.Common.Cdb;

/// <summary>
/// Looks keys up in a cdb file (docs §11) with positioned reads, the way qmail's
/// cdb_seek / cdb_findnext do: nothing is loaded but the 2 KiB header. Lookups keep
/// no state in the reader, so one reader may serve several threads.
/// </summary>
/// <remarks>
/// A damaged file never yields an out-of-range read or an endless probe: every
/// offset is checked against the file's length and a lookup probes at most as many
/// slots as its table has. Damage shows as <see cref="CdbFormatException"/>.
/// </remarks>
public sealed class CdbReader : IDisposable
{
    /// <summary>Slots read per positioned read: most keys are found within the first few.</summary>
    private const int SlotsPerRead = 16;

    /// <summary>
    /// Bytes read at a record in one go: its header, and for the usual short keys and
    /// data, the key and data too, so that a hit costs two reads (slots, record).
    /// </summary>
    private const int RecordReadSize = 512;

    private readonly SafeFileHandle? _file;
    private readonly ReadOnlyMemory<byte> _contents;
    private readonly long _length;
    private readonly byte[] _header = new byte[CdbFormat.HeaderSize];
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> read-only; a missing file is a <see cref="FileNotFoundException"/>.</summary>
    public CdbReader(string path)
        : this(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
    {
    }

    private CdbReader(SafeFileHandle file)
    {
        _file = file;
        try
        {
            _length = RandomAccess.GetLength(_file);
            ReadHeader();
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Reads a cdb held in memory; the memory must not change while the reader is used.</summary>
    public CdbReader(ReadOnlyMemory<byte> contents)
    {
        _contents = contents;
        _length = contents.Length;
        ReadHeader();
    }

    /// <summary>
    /// Opens <paramref name="path"/>. Returns false only when it does not exist
    /// (ENOENT: the callers' "no such database", as qmail's); every other failure,
    /// ENOTDIR, a directory or a damaged header included, is an
    /// <see cref="IOException"/>, which callers treat as a temporary failure.
    /// </summary>
    /// <remarks>
    /// open(2) itself, not File.OpenHandle: most of the databases smtpd and
    /// lspawn look for do not exist, and an exception per absent file is a large
    /// part of a short-lived program's run. O_NONBLOCK keeps a FIFO planted in
    /// its place from blocking the open.
    /// </remarks>
    public static bool TryOpen(string path, [NotNullWhen(true)] out CdbReader? reader)
    {
        reader = null;
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT) return false;
            throw new IOException($"unable to open {path}: {ErrorText.Describe(errno)}", errno);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Fstat(fd, out var st) != 0 || !st.IsRegular)
        {
            handle.Dispose();
            // read(2) of a directory fails with EISDIR, which is what qmail would see
            throw new IOException($"unable to open {path}: not a regular file", st.IsDirectory ? Errno.EISDIR : Errno.EINVAL);
        }
        reader = new CdbReader(handle);
        return true;
    }

    /// <summary>The data of the first record added with <paramref name="key"/> (cdb_seek).</summary>
    public bool TryFind(ReadOnlySpan<byte> key, out byte[] data)
    {
        var probe = StartProbe(key);
        var found = FindNext(key, ref probe);
        data = found ?? [];
        return found != null;
    }

    /// <summary>
    /// The data of every record with <paramref name="key"/>, in the order they were
    /// added (cdb_findnext). The file is read as the sequence is enumerated, so errors
    /// surface then.
    /// </summary>
    public IEnumerable<byte[]> FindAll(ReadOnlySpan<byte> key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return FindAllOf(key.ToArray());
    }

    public void Dispose()
    {
        _disposed = true;
        _file?.Dispose();
    }

    private IEnumerable<byte[]> FindAllOf(byte[] key)
    {
        var probe = StartProbe(key);
        while (FindNext(key, ref probe) is { } data)
            yield return data;
    }

    /// <summary>Where a lookup stands in its table: the next slot to read and how many probes remain.</summary>
    private struct Probe
    {
        public uint Hash;
        public long TablePosition;
        public uint SlotCount;
        public uint NextSlot;
        public uint ProbesLeft;
    }

    private Probe StartProbe(ReadOnlySpan<byte> key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var hash = CdbHash.Compute(key);
        var (position, slotCount) = CdbFormat.ReadHeaderEntry(_header, CdbFormat.TableOf(hash));
        return new Probe
        {
            Hash = hash,
            TablePosition = position,
            SlotCount = slotCount,
            NextSlot = slotCount == 0 ? 0 : CdbFormat.FirstSlot(hash, slotCount),
            ProbesLeft = slotCount,
        };
    }

    /// <summary>The data of the next record with this key along the probe sequence, or null at its end.</summary>
    private byte[]? FindNext(ReadOnlySpan<byte> key, ref Probe probe)
    {
        Span<byte> slots = stackalloc byte[SlotsPerRead * CdbFormat.SlotSize];
        Span<byte> record = stackalloc byte[RecordReadSize];
        while (probe.ProbesLeft > 0)
        {
            // One read covers the next slots up to the table's end; a wrap starts a new read.
            var batch = (int)Math.Min(Math.Min(probe.ProbesLeft, probe.SlotCount - probe.NextSlot), SlotsPerRead);
            var batchBytes = slots[..(batch * CdbFormat.SlotSize)];
            ReadAt(probe.TablePosition + (long)probe.NextSlot * CdbFormat.SlotSize, batchBytes);

            for (var i = 0; i < batch; i++)
            {
                probe.ProbesLeft--;
                probe.NextSlot = probe.NextSlot + 1 == probe.SlotCount ? 0 : probe.NextSlot + 1;

                var slot = CdbFormat.ReadSlot(batchBytes[(i * CdbFormat.SlotSize)..]);
                if (slot.RecordPosition == 0)
                {
                    // An empty slot ends the chain: no later slot can hold this key.
                    probe.ProbesLeft = 0;
                    break;
                }
                if (slot.Hash == probe.Hash && DataIfKeyMatches(slot.RecordPosition, key, record) is { } data)
                    return data;
            }
        }
        return null;
    }

    /// <summary>The data of the record at <paramref name="position"/> if its key is <paramref name="key"/>, else null.</summary>
    private byte[]? DataIfKeyMatches(uint position, ReadOnlySpan<byte> key, Span<byte> buffer)
    {
        if (position < CdbFormat.HeaderSize)
            throw new CdbFormatException($"cdb slot points into the header (offset {position})");

        var bytes = buffer[..(int)Math.Min(buffer.Length, Math.Max(CdbFormat.RecordHeaderSize, _length - position))];
        ReadAt(position, bytes);
        var (keyLength, recordDataLength) = CdbFormat.ReadRecordHeader(bytes);
        CdbFormat.ValidateRecord(position, keyLength, recordDataLength, _length);
        if (keyLength != key.Length)
            return null;

        var keyPosition = (long)position + CdbFormat.RecordHeaderSize;
        var inBuffer = bytes[CdbFormat.RecordHeaderSize..];
        var equal = key.Length <= inBuffer.Length
            ? inBuffer[..key.Length].SequenceEqual(key)
            : KeyEquals(keyPosition, key);
        if (!equal)
            return null;

        var dataInBuffer = inBuffer.Length - key.Length;
        if (recordDataLength <= dataInBuffer)
            return inBuffer.Slice(key.Length, (int)recordDataLength).ToArray();
        var data = new byte[recordDataLength];
        ReadAt(keyPosition + keyLength, data);
        return data;
    }

    private bool KeyEquals(long position, ReadOnlySpan<byte> key)
    {
        if (_file == null)
            return _contents.Span.Slice((int)position, key.Length).SequenceEqual(key);

        // Compared in pieces so that a long key costs no allocation.
        Span<byte> chunk = stackalloc byte[512];
        while (!key.IsEmpty)
        {
            var piece = chunk[..Math.Min(chunk.Length, key.Length)];
            ReadAt(position, piece);
            if (!piece.SequenceEqual(key[..piece.Length]))
                return false;
            position += piece.Length;
            key = key[piece.Length..];
        }
        return true;
    }

    private void ReadHeader()
    {
        if (_length < CdbFormat.HeaderSize)
            throw new CdbFormatException($"cdb file of {_length} bytes is shorter than its {CdbFormat.HeaderSize}-byte header");
        ReadAt(0, _header);
        CdbFormat.ValidateHeader(_header, _length);
    }

    private void ReadAt(long position, Span<byte> destination)
    {
        if (position < 0 || position + destination.Length > _length)
            throw new CdbFormatException(
                $"cdb read of {destination.Length} bytes at offset {position} runs past the end of the {_length}-byte file");
        if (_file == null)
        {
            _contents.Span.Slice((int)position, destination.Length).CopyTo(destination);
            return;
        }
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(_file, destination, position);
            if (read == 0)
                throw new CdbFormatException($"cdb file ended at offset {position}, before its recorded length {_length}");
            position += read;
            destination = destination[read..];
        }
    }
}
