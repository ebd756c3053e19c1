using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// Calls of local delivery and the spawners: changing to a recipient's ids,
/// watching children through pidfds, locking mailboxes, making directories.
/// </summary>
public static unsafe partial class Libc
{
    public const int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    public const int WNOHANG = 1;

    [LibraryImport(L, EntryPoint = "setgroups", SetLastError = true)]
    private static partial int SetgroupsRaw(nuint size, uint* list);

    /// <summary>Replaces the supplementary groups by exactly <paramref name="gid"/>.</summary>
    public static int SetgroupsOnly(uint gid)
    {
        uint g = gid;
        return SetgroupsRaw(1, &g);
    }

    [LibraryImport(L, EntryPoint = "setgid", SetLastError = true)]
    public static partial int Setgid(uint gid);

    [LibraryImport(L, EntryPoint = "setuid", SetLastError = true)]
    public static partial int Setuid(uint uid);

    /// <summary>-1 leaves that id as it is.</summary>
    [LibraryImport(L, EntryPoint = "setresuid", SetLastError = true)]
    public static partial int Setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport(L, EntryPoint = "setresgid", SetLastError = true)]
    public static partial int Setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport(L, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(L, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(L, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string from, string to);

    [LibraryImport(L, EntryPoint = "gethostname", SetLastError = true)]
    private static partial int GethostnameRaw(byte* name, nuint len);

    [LibraryImport(L, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall2(long number, long a, long b);

    [LibraryImport(L, EntryPoint = "open", SetLastError = true)]
    private static partial int OpenRaw(byte* path, int flags, int mode);

    [LibraryImport(L, EntryPoint = "stat", SetLastError = true)]
    private static partial int StatRaw(byte* path, out Stat st);

    [LibraryImport(L, EntryPoint = "getpwnam", SetLastError = true)]
    private static partial nint GetpwnamBytesRaw(byte* name);

    [LibraryImport(L, EntryPoint = "getgrnam", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetgrnamRaw(string name);

    /// <summary>pidfd_open(2): a descriptor that polls readable once the process has exited.</summary>
    public static int PidfdOpen(int pid) => (int)Syscall2(434, pid, 0);

    /// <summary>open(2) of a byte path (file names from mail addresses need not be UTF-8).</summary>
    public static int Open(ReadOnlySpan<byte> path, int flags, int mode)
    {
        fixed (byte* p = CString(path)) return OpenRaw(p, flags, mode);
    }

    public static int StatPath(ReadOnlySpan<byte> path, out Stat st)
    {
        fixed (byte* p = CString(path)) return StatRaw(p, out st);
    }

    /// <summary>The host name, at most 64 bytes, as qmail's maildir names use it.</summary>
    public static byte[] Hostname()
    {
        var buf = stackalloc byte[256];
        if (GethostnameRaw(buf, 255) != 0) return "localhost"u8.ToArray();
        buf[255] = 0;
        var span = new ReadOnlySpan<byte>(buf, 256);
        var len = span.IndexOf((byte)0);
        return span[..Math.Min(len, 64)].ToArray();
    }

    public readonly record struct PasswdBytes(byte[] Name, uint Uid, uint Gid, byte[] Home);

    /// <summary>
    /// getpwnam(3) of a byte name. Errno is reported, so that a
    /// lookup that failed for lack of a service can be told from "no such user".
    /// </summary>
    public static PasswdBytes? GetPasswdBytes(ReadOnlySpan<byte> name, out int errno)
    {
        nint pw;
        fixed (byte* p = CString(name))
        {
            pw = GetpwnamBytesRaw(p); // the generated stub clears errno before the call
            errno = Marshal.GetLastPInvokeError();
        }
        if (pw == 0) return null;
        var n = new ReadOnlySpan<byte>((byte*)*(nint*)pw, int.MaxValue);
        var dirPtr = (byte*)*(nint*)(pw + 32);
        var d = new ReadOnlySpan<byte>(dirPtr, int.MaxValue);
        return new PasswdBytes(n[..n.IndexOf((byte)0)].ToArray(), *(uint*)(pw + 16), *(uint*)(pw + 20),
            d[..d.IndexOf((byte)0)].ToArray());
    }

    /// <summary>The gid of group <paramref name="name"/>, or null.</summary>
    public static uint? GetGroupId(string name)
    {
        var gr = GetgrnamRaw(name);
        // struct group: name, passwd, gid
        return gr == 0 ? null : *(uint*)(gr + 16);
    }

    private static byte[] CString(ReadOnlySpan<byte> s)
    {
        var c = new byte[s.Length + 1];
        s.CopyTo(c);
        return c;
    }
}
