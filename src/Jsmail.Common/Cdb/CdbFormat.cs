using System.Buffers.Binary;

namespace Jsmail.Common.Cdb;

/// <summary>One hash-table entry: the key's hash and the offset of its record (0 = empty slot).</summary>
internal readonly record struct CdbSlot(uint Hash, uint RecordPosition);

/// <summary>
/// The cdb layout (docs §11) as pure functions over bytes, shared by the reader
/// and the writer. All integers are 32-bit unsigned little-endian.
/// </summary>
internal static class CdbFormat
{
    public const int TableCount = 256;
    public const int HeaderEntrySize = 8;
    public const int HeaderSize = TableCount * HeaderEntrySize;
    public const int SlotSize = 8;
    public const int RecordHeaderSize = 8;

    /// <summary>Offsets are 32-bit, so no byte of the file may lie at or past 4 GiB.</summary>
    public const long MaxFileSize = uint.MaxValue;

    public static int TableOf(uint hash) => (int)(hash & 0xFF);

    public static uint FirstSlot(uint hash, uint slotCount) => (hash >> 8) % slotCount;

    public static (uint Position, uint SlotCount) ReadHeaderEntry(ReadOnlySpan<byte> header, int table)
    {
        var entry = header.Slice(table * HeaderEntrySize, HeaderEntrySize);
        return (BinaryPrimitives.ReadUInt32LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]));
    }

    public static void WriteHeaderEntry(Span<byte> header, int table, uint position, uint slotCount)
    {
        var entry = header.Slice(table * HeaderEntrySize, HeaderEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(entry, position);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], slotCount);
    }

    public static CdbSlot ReadSlot(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(bytes), BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]));

    public static void WriteSlot(Span<byte> bytes, CdbSlot slot)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, slot.Hash);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], slot.RecordPosition);
    }

    public static (uint KeyLength, uint DataLength) ReadRecordHeader(ReadOnlySpan<byte> bytes) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(bytes), BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]));

    public static void WriteRecordHeader(Span<byte> bytes, int keyLength, int dataLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)keyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], (uint)dataLength);
    }

    /// <summary>
    /// Places one table's entries, given in insertion order, into <paramref name="table"/>
    /// (twice as many slots as entries) the way cdbmake does: from the key's first slot,
    /// forward to the next empty one, wrapping. Insertion order is what makes a lookup
    /// meet duplicates of a key in the order they were added.
    /// </summary>
    public static void PlaceEntries(ReadOnlySpan<CdbSlot> entries, Span<CdbSlot> table)
    {
        if (table.Length != 2 * entries.Length)
            throw new ArgumentException("a table has exactly two slots per entry", nameof(table));
        table.Clear();
        foreach (var entry in entries)
        {
            var slot = (int)FirstSlot(entry.Hash, (uint)table.Length);
            while (table[slot].RecordPosition != 0)
                slot = slot + 1 == table.Length ? 0 : slot + 1;
            table[slot] = entry;
        }
    }

    /// <summary>
    /// Checks that every non-empty table lies after the header and inside a file of
    /// <paramref name="fileLength"/> bytes, so that probing can never read past the end.
    /// </summary>
    public static void ValidateHeader(ReadOnlySpan<byte> header, long fileLength)
    {
        for (var table = 0; table < TableCount; table++)
        {
            var (position, slotCount) = ReadHeaderEntry(header, table);
            if (slotCount == 0)
                continue;
            if (position < HeaderSize || position + (long)slotCount * SlotSize > fileLength)
                throw new CdbFormatException(
                    $"cdb hash table {table} ({slotCount} slots at offset {position}) lies outside the {fileLength}-byte file");
        }
    }

    /// <summary>Checks a record header read at <paramref name="position"/> against the file's bounds.</summary>
    public static void ValidateRecord(uint position, uint keyLength, uint dataLength, long fileLength)
    {
        if ((long)position + RecordHeaderSize + keyLength + dataLength > fileLength)
            throw new CdbFormatException(
                $"cdb record at offset {position} (key {keyLength} bytes, data {dataLength} bytes) runs past the end of the {fileLength}-byte file");
        if (dataLength > Array.MaxLength)
            throw new CdbFormatException($"cdb record at offset {position} has {dataLength} bytes of data, too many to hold");
    }
}
