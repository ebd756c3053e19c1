using System.Net;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Remote;

/// <summary>
/// qmail's table of hosts that timed out (queue/lock/tcpto, §6.5): 64 records
/// of 16 bytes — IPv4 address, failure count, time of the last failure — read
/// and updated under an exclusive lock. An address that timed out twice is
/// skipped for 64-97 minutes. Only IPv4 addresses are recorded, as in qmail.
/// The record codec is Jsmail.Common.Queue.TcptoTable, shared with jsmail-tcpto.
/// </summary>
public static class Tcpto
{
    public const int Size = TcptoTable.Size, Records = TcptoTable.Records, RecordSize = TcptoTable.RecordSize;

    /// <summary>Pure: should this address be skipped now?</summary>
    public static bool IsDown(ReadOnlySpan<byte> table, IPAddress ip, long now, int pid) =>
        TcptoTable.IsDown(table, ip, now, pid);

    /// <summary>Pure: the table after a connect attempt (timedOut: the attempt ended in ETIMEDOUT).</summary>
    public static void Record(Span<byte> table, IPAddress ip, bool timedOut, long now) =>
        TcptoTable.Record(table, ip, timedOut, now);

    private static bool Recordable(IPAddress ip) => ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;

    /// <summary>Reads the table (all zeros if it cannot be read: nothing is then skipped).</summary>
    public static byte[] Load(string path)
    {
        var table = new byte[Size];
        using var file = OwnedFd.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (!file.IsOpen) return table;
        Libc.Flock(file.Fd, Libc.LOCK_EX);
        Libc.Read(file.Fd, table);
        return table;
    }

    /// <summary>Applies one attempt's result under the lock; errors are ignored as in qmail.</summary>
    public static void Update(string path, IPAddress ip, bool timedOut, long now)
    {
        if (!Recordable(ip)) return;
        using var file = OwnedFd.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (!file.IsOpen) return;
        if (Libc.Flock(file.Fd, Libc.LOCK_EX) != 0) return;
        var table = new byte[Size];
        if (Libc.Read(file.Fd, table) < 0) return;
        var before = (byte[])table.Clone();
        Record(table, ip, timedOut, now);
        if (table.AsSpan().SequenceEqual(before)) return;
        if (Libc.Lseek(file.Fd, 0, 0) != 0) return;
        Libc.WriteAll(file.Fd, table);
    }
}
