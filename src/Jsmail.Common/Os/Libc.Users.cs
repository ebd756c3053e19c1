using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Accounts and groups from the system's databases (getpwnam, getgrnam), and the host name.</summary>
public static unsafe partial class Libc
{
    [LibraryImport(L, EntryPoint = "getpwuid")]
    private static partial nint GetpwuidRaw(uint uid);

    [LibraryImport(L, EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetpwnamRaw(string name);

    [LibraryImport(L, EntryPoint = "getpwnam", SetLastError = true)]
    private static partial nint GetpwnamBytesRaw(byte* name);

    [LibraryImport(L, EntryPoint = "getgrnam", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetgrnamRaw(string name);

    [LibraryImport(L, EntryPoint = "gethostname", SetLastError = true)]
    private static partial int GethostnameRaw(byte* name, nuint len);

    public readonly record struct Passwd(string Name, uint Uid, uint Gid, string Home);

    public static Passwd? GetPasswd(uint uid) => ReadPasswd(GetpwuidRaw(uid));
    public static Passwd? GetPasswd(string name) => ReadPasswd(GetpwnamRaw(name));

    private static Passwd? ReadPasswd(nint pw)
    {
        if (pw == 0) return null;
        // struct passwd on x86_64: name, passwd, uid, gid, gecos, dir, shell
        var name = Marshal.PtrToStringUTF8(*(nint*)pw) ?? "";
        var uid = *(uint*)(pw + 16);
        var gid = *(uint*)(pw + 20);
        var dir = Marshal.PtrToStringUTF8(*(nint*)(pw + 32)) ?? "";
        return new Passwd(name, uid, gid, dir);
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
}
