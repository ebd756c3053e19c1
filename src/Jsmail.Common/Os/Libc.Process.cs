using System.Runtime.InteropServices;
using static Jsmail.Common.Os.Errno;

namespace Jsmail.Common.Os;

/// <summary>Calls on processes: exec, waiting and its status, signalling, pidfds, leaving.</summary>
public static unsafe partial class Libc
{
    public const int WNOHANG = 1;

    [LibraryImport(L, EntryPoint = "getpid")] public static partial int Getpid();

    /// <summary>The calling thread's kernel id (its /proc/self/task entry); the main thread's is the pid.</summary>
    [LibraryImport(L, EntryPoint = "gettid")] public static partial int Gettid();

    /// <summary>Leaves at once: no finalizers, no flushing, as qmail's _exit.</summary>
    [LibraryImport(L, EntryPoint = "_exit")]
    public static partial void Exit(int status);

    /// <summary>The raw call; programs exec through <see cref="Exec.Replace"/>.</summary>
    [LibraryImport(L, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Execve(string path, byte** argv, byte** envp);

    [LibraryImport(L, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    // struct rusage on x86_64: ru_utime, ru_stime (struct timeval each), then 14 longs.
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Rusage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
    }

    [LibraryImport(L, EntryPoint = "wait4", SetLastError = true)]
    private static partial int Wait4Raw(int pid, int* status, int options, Rusage* usage);

    /// <summary>waitpid(2) retried on EINTR; returns the pid (0 with WNOHANG and no change) or -1, and the raw status.</summary>
    public static int Waitpid(int pid, out int status, int options = 0) => Wait4(pid, out status, options, null);

    /// <summary>
    /// <see cref="Waitpid"/> that also gives the child's user plus system CPU time in
    /// milliseconds, as the kernel counted it at the reaping. The benchmarks compare
    /// start-up by it: on a shared machine a child's wall time is mostly its wait for a core.
    /// </summary>
    public static int WaitpidWithCpu(int pid, out int status, out double cpuMilliseconds)
    {
        Rusage usage;
        var r = Wait4(pid, out status, 0, &usage);
        cpuMilliseconds = r < 0 ? 0 : (usage.UserSeconds + usage.SystemSeconds) * 1000.0
            + (usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0;
        return r;
    }

    /// <summary>wait4(2) (waitpid when <paramref name="usage"/> is null) retried on EINTR.</summary>
    private static int Wait4(int pid, out int status, int options, Rusage* usage)
    {
        int s = 0;
        while (true)
        {
            var r = Wait4Raw(pid, &s, options, usage);
            if (r >= 0 || Errno != EINTR) { status = s; return r; }
        }
    }

    /// <summary>pidfd_open(2): a descriptor that polls readable once the process has exited.</summary>
    public static int PidfdOpen(int pid) => (int)Syscall(SYS_pidfd_open, pid, 0, 0);

    /// <summary>pidfd_open's number, the same on x86-64 and arm64 (added after the tables were unified).</summary>
    private const long SYS_pidfd_open = 434;

    /// <summary>WIFEXITED / WEXITSTATUS / WTERMSIG of a wait status.</summary>
    public static bool Exited(int status) => (status & 0x7f) == 0;
    public static int ExitCode(int status) => (status >> 8) & 0xff;
    public static int TermSignal(int status) => status & 0x7f;
}
