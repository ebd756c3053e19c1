using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Resource limits (getrlimit/setrlimit).</summary>
public static unsafe partial class Libc
{
    public const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit { public ulong Current; public ulong Maximum; }

    [LibraryImport(L, EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetrlimitRaw(int resource, Rlimit* limit);

    [LibraryImport(L, EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetrlimitRaw(int resource, Rlimit* limit);

    /// <summary>
    /// Raises a resource's soft limit to its hard limit (a server that holds a
    /// descriptor per client needs every one it is allowed). Returns the soft
    /// limit now in force, or -1 when it could not be read.
    /// </summary>
    public static long RaiseSoftLimitToHard(int resource)
    {
        Rlimit r;
        if (GetrlimitRaw(resource, &r) != 0) return -1;
        if (r.Current == r.Maximum) return (long)Math.Min(r.Current, long.MaxValue);
        var raised = new Rlimit { Current = r.Maximum, Maximum = r.Maximum };
        return SetrlimitRaw(resource, &raised) == 0 ? (long)Math.Min(r.Maximum, long.MaxValue) : (long)Math.Min(r.Current, long.MaxValue);
    }
}
