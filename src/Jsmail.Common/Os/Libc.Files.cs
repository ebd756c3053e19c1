using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Calls on paths: opening with exact flags and modes, stat, links, renames, directories, times.</summary>
public static unsafe partial class Libc
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80,
        O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Explicit, Size = 144)]
    public struct Stat
    {
        [FieldOffset(0)] public ulong Dev;
        [FieldOffset(8)] public ulong Ino;
        [FieldOffset(16)] public ulong Nlink;
        [FieldOffset(24)] public uint Mode;
        [FieldOffset(28)] public uint Uid;
        [FieldOffset(32)] public uint Gid;
        [FieldOffset(48)] public long Size;
        [FieldOffset(72)] public long ATimeSec;
        [FieldOffset(88)] public long MTimeSec;

        public readonly bool IsFifo => (Mode & 0xF000) == 0x1000;
        public readonly bool IsDirectory => (Mode & 0xF000) == 0x4000;
        public readonly bool IsRegular => (Mode & 0xF000) == 0x8000;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Utimbuf { public long ActTime; public long ModTime; }

    [LibraryImport(L, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(L, EntryPoint = "open", SetLastError = true)]
    private static partial int OpenRaw(byte* path, int flags, int mode);

    [LibraryImport(L, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatPath(string path, out Stat st);

    [LibraryImport(L, EntryPoint = "stat", SetLastError = true)]
    private static partial int StatRaw(byte* path, out Stat st);

    public const int X_OK = 1;

    /// <summary>access(2): whether this process (its real ids) may use the file as <paramref name="mode"/> asks; 0 when it may.</summary>
    [LibraryImport(L, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport(L, EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lchown(string path, uint uid, uint gid);

    [LibraryImport(L, EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lstat(string path, out Stat st);

    [LibraryImport(L, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string from, string to);

    [LibraryImport(L, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(L, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string from, string to);

    [LibraryImport(L, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(L, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chdir(string path);

    [LibraryImport(L, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    [LibraryImport(L, EntryPoint = "utime", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimeRaw(string path, Utimbuf* times);

    /// <summary>open(2) of a byte path (file names from mail addresses need not be UTF-8).</summary>
    [LibraryImport(L, EntryPoint = "chdir", SetLastError = true)]
    private static partial int ChdirRaw(byte* path);

    /// <summary>chdir to a path given as bytes, so a name that is not UTF-8 reaches the kernel as it came.</summary>
    public static int Chdir(ReadOnlySpan<byte> path)
    {
        fixed (byte* p = CString(path)) return ChdirRaw(p);
    }

    public static int Open(ReadOnlySpan<byte> path, int flags, int mode)
    {
        fixed (byte* p = CString(path)) return OpenRaw(p, flags, mode);
    }

    public static int StatPath(ReadOnlySpan<byte> path, out Stat st)
    {
        fixed (byte* p = CString(path)) return StatRaw(p, out st);
    }

    /// <summary>Sets both atime and mtime, as qmail-send records a channel file's next retry.</summary>
    public static int Utime(string path, long seconds)
    {
        var t = new Utimbuf { ActTime = seconds, ModTime = seconds };
        return UtimeRaw(path, &t);
    }
}
