using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// Real, effective and saved ids and supplementary groups: reading them, and
/// changing them process-wide (glibc's wrappers) or for the calling thread only
/// (the raw system calls, see <see cref="ThreadCredentials"/>).
/// </summary>
public static unsafe partial class Libc
{
    [LibraryImport(L, EntryPoint = "getuid")] public static partial uint Getuid();
    [LibraryImport(L, EntryPoint = "geteuid")] public static partial uint Geteuid();
    [LibraryImport(L, EntryPoint = "getgid")] public static partial uint Getgid();
    [LibraryImport(L, EntryPoint = "getegid")] public static partial uint Getegid();

    [LibraryImport(L, EntryPoint = "setreuid", SetLastError = true)]
    public static partial int Setreuid(uint ruid, uint euid);

    [LibraryImport(L, EntryPoint = "setregid", SetLastError = true)]
    public static partial int Setregid(uint rgid, uint egid);

    [LibraryImport(L, EntryPoint = "setgid", SetLastError = true)]
    public static partial int Setgid(uint gid);

    [LibraryImport(L, EntryPoint = "setuid", SetLastError = true)]
    public static partial int Setuid(uint uid);

    /// <summary>-1 leaves that id as it is.</summary>
    [LibraryImport(L, EntryPoint = "setresuid", SetLastError = true)]
    public static partial int Setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport(L, EntryPoint = "setresgid", SetLastError = true)]
    public static partial int Setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport(L, EntryPoint = "setgroups", SetLastError = true)]
    private static partial int SetgroupsRaw(nuint size, uint* list);

    /// <summary>syscall(2) with up to three arguments (pass 0 for unused ones), for calls glibc does not wrap or wraps differently.</summary>
    [LibraryImport(L, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long a, long b, long c);

    /// <summary>Replaces the supplementary groups by exactly <paramref name="gid"/>.</summary>
    public static int SetgroupsOnly(uint gid)
    {
        uint g = gid;
        return SetgroupsRaw(1, &g);
    }

    /// <summary>Replaces the supplementary groups by exactly these.</summary>
    public static int Setgroups(ReadOnlySpan<uint> gids)
    {
        fixed (uint* p = gids) return SetgroupsRaw((nuint)gids.Length, p);
    }

    /// <summary>
    /// setgroups, setresgid and setresuid as raw system calls: they change the
    /// calling thread's credentials only (glibc's wrappers copy a change to every thread).
    /// </summary>
    internal static (long Setgroups, long Setresgid, long Setresuid) ThreadCredentialCalls() =>
        RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => (116, 119, 117),
            Architecture.Arm64 => (159, 149, 147),
            var other => throw new PlatformNotSupportedException($"thread credentials on {other}"),
        };
}
