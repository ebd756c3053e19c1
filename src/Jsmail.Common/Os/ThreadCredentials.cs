using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// Credentials and filesystem context of the calling thread only. Linux keeps
/// uids, gids, groups, the working directory and the umask per thread; glibc's
/// set*id wrappers copy a change to every thread of the process, the raw
/// system calls used here do not. So a dedicated thread (never a pool thread:
/// it must not run anyone else's work afterwards) can become a mail recipient
/// while the rest of the process, and the thread-group leader whose ids decide
/// who may signal it, stays root.
/// </summary>
public static unsafe partial class ThreadCredentials
{
    private const int CLONE_FS = 0x200;

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int UnshareRaw(int flags);

    /// <summary>
    /// Gives the calling thread its own working directory and umask (unshare
    /// CLONE_FS), so that its chdir and umask do not move the other threads.
    /// Returns 0 or the errno.
    /// </summary>
    public static int SeparateFilesystemContext() =>
        UnshareRaw(CLONE_FS) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>
    /// Real, effective and saved uid and gid become <paramref name="uid"/> and
    /// <paramref name="gid"/>, the supplementary groups exactly
    /// <paramref name="groups"/>: for good, on this thread only. Groups first,
    /// then the gid, then the uid: each step needs the privilege the next one
    /// gives up. Returns 0 or the errno of the step that failed (the thread
    /// must then be given up on: it may be half changed).
    /// </summary>
    public static int Drop(uint uid, uint gid, ReadOnlySpan<uint> groups)
    {
        var (setgroups, setresgid, setresuid) = Libc.ThreadCredentialCalls();
        fixed (uint* g = groups)
        {
            if (Libc.Syscall(setgroups, groups.Length, (long)g, 0) != 0 ||
                Libc.Syscall(setresgid, gid, gid, gid) != 0 ||
                Libc.Syscall(setresuid, uid, uid, uid) != 0)
                return Marshal.GetLastPInvokeError();
        }
        return 0;
    }

    /// <summary>
    /// Effective and real ids become <paramref name="uid"/>/<paramref name="gid"/>
    /// with the single group <paramref name="gid"/>, keeping the saved ids, so
    /// that <see cref="Regain"/> can undo it: for a lookup that must see the
    /// system as an unprivileged account sees it (qmail-getpw as qmailp).
    /// </summary>
    public static int Borrow(uint uid, uint gid)
    {
        var (setgroups, setresgid, setresuid) = Libc.ThreadCredentialCalls();
        var g = gid;
        if (Libc.Syscall(setgroups, 1, (long)&g, 0) != 0 ||
            Libc.Syscall(setresgid, gid, gid, -1) != 0 ||
            Libc.Syscall(setresuid, uid, uid, -1) != 0)
            return Marshal.GetLastPInvokeError();
        return 0;
    }

    /// <summary>Back to root after <see cref="Borrow"/> (the saved uid is still 0). Returns 0 or the errno.</summary>
    public static int Regain()
    {
        var (_, setresgid, setresuid) = Libc.ThreadCredentialCalls();
        if (Libc.Syscall(setresuid, 0, 0, 0) != 0 || Libc.Syscall(setresgid, 0, 0, 0) != 0)
            return Marshal.GetLastPInvokeError();
        return 0;
    }
}
