using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Calls the queue manager needs: the send mutex, retry times on channel files, uid switching in jsmail-start.</summary>
public static unsafe partial class Libc
{
    public const int LOCK_EX = 2, LOCK_NB = 4;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [StructLayout(LayoutKind.Sequential)]
    private struct Utimbuf { public long ActTime; public long ModTime; }

    [LibraryImport("libc", EntryPoint = "utime", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimeRaw(string path, Utimbuf* times);

    /// <summary>Sets both atime and mtime, as qmail-send records a channel file's next retry.</summary>
    public static int Utime(string path, long seconds)
    {
        var t = new Utimbuf { ActTime = seconds, ModTime = seconds };
        return UtimeRaw(path, &t);
    }

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static partial int SetgroupsRaw(nuint size, uint* list);

    public static int Setgroups(ReadOnlySpan<uint> gids)
    {
        fixed (uint* p = gids) return SetgroupsRaw((nuint)gids.Length, p);
    }

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetgrnamRaw(string name);

    /// <summary>The gid of a group by name, or null.</summary>
    public static uint? GetGroupId(string name)
    {
        var gr = GetgrnamRaw(name);
        if (gr == 0) return null;
        return *(uint*)(gr + 16); // struct group on x86_64: name, passwd, gid
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int from, int to);
}
