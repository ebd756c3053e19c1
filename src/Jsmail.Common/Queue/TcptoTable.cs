using System.Buffers.Binary;
using System.Net;

namespace Jsmail.Common.Queue;

/// <summary>One remembered host of queue/lock/tcpto: its address, how many recent timeouts, when the last was.</summary>
public readonly record struct TcptoEntry(IPAddress Address, int Count, uint LastTimeout);

/// <summary>
/// The codec of qmail's table of hosts that timed out (queue/lock/tcpto,
/// interfaces §6.5): 64 records of 16 bytes — IPv4 address (network order),
/// failure count, three unused bytes, the time of the last failure
/// (little-endian), four unused bytes. jsmail-remote keeps it; jsmail-tcpto
/// prints it; jsmail-tcpok clears it. Only IPv4 addresses are recorded, as in qmail.
/// </summary>
public static class TcptoTable
{
    public const int Size = 1024, Records = 64, RecordSize = 16;

    /// <summary>Pure: should this address be skipped now? (count ≥ 2 and the last timeout is 64-97 minutes recent).</summary>
    public static bool IsDown(ReadOnlySpan<byte> table, IPAddress ip, long now, int pid)
    {
        var key = Key(ip);
        if (key == null) return false;
        for (var i = 0; i + RecordSize <= table.Length && i < Size; i += RecordSize)
        {
            var r = table.Slice(i, RecordSize);
            if (!r[..4].SequenceEqual(key)) continue;
            var count = r[4];
            var when = BinaryPrimitives.ReadUInt32LittleEndian(r[8..]);
            return count >= 2 && now - when < (60 + (pid & 31)) * 64L;
        }
        return false;
    }

    /// <summary>Pure: the table after a connect attempt (timedOut: the attempt ended in ETIMEDOUT).</summary>
    public static void Record(Span<byte> table, IPAddress ip, bool timedOut, long now)
    {
        var key = Key(ip);
        if (key == null || table.Length < Size) return;
        var found = -1;
        for (var i = 0; i < Size; i += RecordSize)
            if (table.Slice(i, 4).SequenceEqual(key)) { found = i; break; }

        if (!timedOut)
        {
            if (found >= 0) table[found + 4] = 0;
            return;
        }
        if (found >= 0)
        {
            var count = table[found + 4];
            var when = BinaryPrimitives.ReadUInt32LittleEndian(table[(found + 8)..]);
            if (count != 0 && now - when < 120) return; // one outage, counted once
            table[found + 4] = (byte)Math.Min(count + 1, 10);
            BinaryPrimitives.WriteUInt32LittleEndian(table[(found + 8)..], (uint)now);
            return;
        }
        // A new address: a free slot, else the one least worth keeping.
        var slot = -1;
        long best = long.MaxValue;
        for (var i = 0; i < Size; i += RecordSize)
        {
            var count = table[i + 4];
            if (count == 0) { slot = i; break; }
            var score = BinaryPrimitives.ReadUInt32LittleEndian(table[(i + 8)..]) + count * 1024L;
            if (score < best) { best = score; slot = i; }
        }
        table.Slice(slot, RecordSize).Clear();
        key.CopyTo(table[slot..]);
        table[slot + 4] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(table[(slot + 8)..], (uint)now);
    }

    /// <summary>
    /// Pure: the records qmail-tcpto shows, in file order: whole records only
    /// (a short file gives fewer), those whose count byte, read as qmail's
    /// signed char, is at least 1.
    /// </summary>
    public static List<TcptoEntry> Entries(ReadOnlySpan<byte> table)
    {
        var entries = new List<TcptoEntry>();
        for (var i = 0; i + RecordSize <= table.Length; i += RecordSize)
        {
            var r = table.Slice(i, RecordSize);
            if ((sbyte)r[4] < 1) continue;
            entries.Add(new TcptoEntry(new IPAddress(r[..4]), r[4], BinaryPrimitives.ReadUInt32LittleEndian(r[8..])));
        }
        return entries;
    }

    private static byte[]? Key(IPAddress ip) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? ip.GetAddressBytes() : null;
}
