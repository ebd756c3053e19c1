using System.Buffers.Binary;
using System.Net;
using Jsmail.Common.Os;

namespace Jsmail.Remote;

/// <summary>
/// qmail's table of hosts that timed out (queue/lock/tcpto, §6.5): 64 records
/// of 16 bytes — IPv4 address, failure count, time of the last failure — read
/// and updated under an exclusive lock. An address that timed out twice is
/// skipped for 64-97 minutes. Only IPv4 addresses are recorded, as in qmail.
/// </summary>
internal static class Tcpto
{
    public const int Size = 1024, Records = 64, RecordSize = 16;

    /// <summary>Pure: should this address be skipped now?</summary>
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

    private static byte[]? Key(IPAddress ip) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? ip.GetAddressBytes() : null;

    /// <summary>Reads the table (all zeros if it cannot be read: nothing is then skipped).</summary>
    public static byte[] Load(string path)
    {
        var table = new byte[Size];
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return table;
        try
        {
            Libc.Flock(fd, Libc.LOCK_EX);
            Libc.Read(fd, table);
        }
        finally { Libc.Close(fd); }
        return table;
    }

    /// <summary>Applies one attempt's result under the lock; errors are ignored as in qmail.</summary>
    public static void Update(string path, IPAddress ip, bool timedOut, long now)
    {
        if (Key(ip) == null) return;
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) return;
        try
        {
            if (Libc.Flock(fd, Libc.LOCK_EX) != 0) return;
            var table = new byte[Size];
            if (Libc.Read(fd, table) < 0) return;
            var before = (byte[])table.Clone();
            Record(table, ip, timedOut, now);
            if (table.AsSpan().SequenceEqual(before)) return;
            if (Libc.Lseek(fd, 0, 0) != 0) return;
            Libc.WriteAll(fd, table);
        }
        finally { Libc.Close(fd); }
    }
}
