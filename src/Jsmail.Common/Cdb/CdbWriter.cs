namespace Jsmail.Common.Cdb;

/// <summary>
/// Builds a cdb file (docs §11) byte for byte as cdbmake does. Records go to the
/// output as they are added; memory keeps only each record's hash and offset
/// (8 bytes), so the size of a database is bounded by the format, not by memory.
/// </summary>
public sealed class CdbWriter : IDisposable
{
    private const int OutputBufferSize = 64 * 1024;

    /// <summary>0644, as qmail-newu creates users/cdb.tmp; the process umask still applies.</summary>
    private const UnixFileMode CreateMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly long _origin;
    private readonly CdbSlot[]?[] _tables = new CdbSlot[]?[CdbFormat.TableCount];
    private readonly int[] _tableCounts = new int[CdbFormat.TableCount];
    private long _position = CdbFormat.HeaderSize;
    private long _recordCount;
    private bool _finished;
    private bool _disposed;

    /// <summary>
    /// Writes a cdb to <paramref name="output"/>, which must be writable and seekable
    /// (the header is rewritten at the end). Offsets count from the stream's current
    /// position.
    /// </summary>
    public CdbWriter(Stream output, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanWrite || !output.CanSeek)
            throw new ArgumentException("a cdb is written to a writable, seekable stream", nameof(output));
        _output = output;
        _leaveOpen = leaveOpen;
        _origin = output.Position;
        // Reserved now, filled by Finish once the tables' places are known.
        WriteOutput(new byte[CdbFormat.HeaderSize]);
    }

    /// <summary>Creates or truncates <paramref name="path"/> (mode 0644 less umask) and writes a cdb to it.</summary>
    public static CdbWriter Create(string path)
    {
        var file = OpenForWriting(path);
        try
        {
            return new CdbWriter(file);
        }
        catch
        {
            DisposeQuietly(file);
            throw;
        }
    }

    /// <summary>
    /// True once writing to the output failed or the 4 GiB limit was hit: the output is
    /// then incomplete and the writer accepts nothing more.
    /// </summary>
    public bool Failed { get; private set; }

    /// <summary>Number of records added so far.</summary>
    public long Count => _recordCount;

    /// <summary>
    /// Appends a record. Duplicate keys are kept; a lookup finds the first one added.
    /// Throws <see cref="IOException"/> (leaving the writer failed) when the finished
    /// file would no longer fit the format's 32-bit offsets.
    /// </summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        ThrowUnlessWritable();

        // Each record also costs two 8-byte slots in the tables written by Finish.
        var recordSize = (long)CdbFormat.RecordHeaderSize + key.Length + data.Length;
        var finishedSize = _position + recordSize + 2L * CdbFormat.SlotSize * (_recordCount + 1);
        if (finishedSize > CdbFormat.MaxFileSize)
        {
            Failed = true;
            throw new IOException(
                $"cdb would grow to {finishedSize} bytes; its 32-bit offsets allow at most {CdbFormat.MaxFileSize}");
        }

        var hash = CdbHash.Compute(key);
        Span<byte> recordHeader = stackalloc byte[CdbFormat.RecordHeaderSize];
        CdbFormat.WriteRecordHeader(recordHeader, key.Length, data.Length);
        WriteOutput(recordHeader);
        WriteOutput(key);
        WriteOutput(data);

        Remember(new CdbSlot(hash, (uint)_position));
        _position += recordSize;
        _recordCount++;
    }

    /// <summary>
    /// Writes the 256 hash tables after the records, in table order, then the header,
    /// and flushes the stream (not to disk: <see cref="WriteAtomically"/> does that).
    /// </summary>
    public void Finish()
    {
        ThrowUnlessWritable();
        var header = new byte[CdbFormat.HeaderSize];
        var largestTable = _tableCounts.Max();
        var table = new CdbSlot[2 * largestTable];
        var encoded = new byte[OutputBufferSize];

        for (var t = 0; t < CdbFormat.TableCount; t++)
        {
            var entryCount = _tableCounts[t];
            var slotCount = 2 * entryCount;
            // An empty table still records where it would have started, as cdbmake does.
            CdbFormat.WriteHeaderEntry(header, t, (uint)_position, (uint)slotCount);
            if (entryCount == 0)
                continue;

            var slots = table.AsSpan(0, slotCount);
            CdbFormat.PlaceEntries(_tables[t].AsSpan(0, entryCount), slots);
            while (!slots.IsEmpty)
            {
                var piece = Math.Min(slots.Length, encoded.Length / CdbFormat.SlotSize);
                for (var i = 0; i < piece; i++)
                    CdbFormat.WriteSlot(encoded.AsSpan(i * CdbFormat.SlotSize), slots[i]);
                WriteOutput(encoded.AsSpan(0, piece * CdbFormat.SlotSize));
                slots = slots[piece..];
            }
            _position += (long)slotCount * CdbFormat.SlotSize;
        }

        try
        {
            _output.Seek(_origin, SeekOrigin.Begin);
            _output.Write(header);
            _output.Seek(_origin + _position, SeekOrigin.Begin);
            _output.Flush();
        }
        catch
        {
            Failed = true;
            throw;
        }
        _finished = true;
    }

    /// <summary>
    /// Builds a cdb at <paramref name="path"/> the way qmail-newu and qmail-newmrh do:
    /// write <paramref name="tmpPath"/> (created 0644 less umask), fsync, close, rename over
    /// <paramref name="path"/>. Readers see the old file or the new one, never a partial one.
    /// On any failure <paramref name="path"/> is untouched and <paramref name="tmpPath"/> is
    /// removed. Failures of this method's own I/O are <see cref="CdbAtomicWriteException"/>;
    /// whatever <paramref name="fill"/> throws for its own reasons passes through as it is.
    /// </summary>
    public static void WriteAtomically(string path, string tmpPath, Action<CdbWriter> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        FileStream file;
        try
        {
            file = OpenForWriting(tmpPath);
        }
        catch (Exception e) when (IsIoFailure(e))
        {
            throw new CdbAtomicWriteException(CdbAtomicWriteStep.OpenTemporary, $"unable to open {tmpPath}: {e.Message}", e);
        }

        var renamed = false;
        try
        {
            CdbWriter writer;
            try
            {
                writer = new CdbWriter(file, leaveOpen: true);
            }
            catch (Exception e) when (IsIoFailure(e))
            {
                throw WriteFailure(tmpPath, e);
            }

            try
            {
                fill(writer);
            }
            catch (Exception e) when (writer.Failed)
            {
                throw WriteFailure(tmpPath, e);
            }

            try
            {
                if (!writer._finished)
                    writer.Finish();
                file.Flush(flushToDisk: true);
                // close(2) can report a write error too, so it is part of writing.
                file.Dispose();
            }
            catch (Exception e) when (writer.Failed || IsIoFailure(e))
            {
                throw WriteFailure(tmpPath, e);
            }

            try
            {
                File.Move(tmpPath, path, overwrite: true);
            }
            catch (Exception e) when (IsIoFailure(e))
            {
                throw new CdbAtomicWriteException(CdbAtomicWriteStep.Rename, $"unable to move {tmpPath} to {path}: {e.Message}", e);
            }
            renamed = true;
        }
        finally
        {
            if (!renamed)
            {
                DisposeQuietly(file);
                RemoveQuietly(tmpPath);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_leaveOpen)
            _output.Dispose();
    }

    private static FileStream OpenForWriting(string path) =>
        new(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = CreateMode,
            BufferSize = OutputBufferSize,
        });

    private void Remember(CdbSlot entry)
    {
        var t = CdbFormat.TableOf(entry.Hash);
        var entries = _tables[t];
        var count = _tableCounts[t];
        if (entries == null || count == entries.Length)
        {
            Array.Resize(ref entries, Math.Max(8, 2 * count));
            _tables[t] = entries;
        }
        entries[count] = entry;
        _tableCounts[t] = count + 1;
    }

    private void WriteOutput(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _output.Write(bytes);
        }
        catch
        {
            Failed = true;
            throw;
        }
    }

    private void ThrowUnlessWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
            throw new InvalidOperationException("the cdb is already finished");
        if (Failed)
            throw new InvalidOperationException("an earlier write to the cdb failed; its output is incomplete");
    }

    private static bool IsIoFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    private static CdbAtomicWriteException WriteFailure(string tmpPath, Exception e) =>
        new(CdbAtomicWriteStep.WriteTemporary, $"unable to write {tmpPath}: {e.Message}", e);

    /// <summary>Used only when already failing: the first error is the one worth reporting.</summary>
    private static void DisposeQuietly(FileStream file)
    {
        try { file.Dispose(); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void RemoveQuietly(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
