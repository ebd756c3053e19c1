using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Calls the queue manager needs: retry times on channel files, uid switching in jsmail-start.</summary>
public static unsafe partial class Libc
{
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

    /// <summary>Replaces the supplementary groups by exactly these.</summary>
    public static int Setgroups(ReadOnlySpan<uint> gids)
    {
        fixed (uint* p = gids) return SetgroupsRaw((nuint)gids.Length, p);
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int from, int to);
}
