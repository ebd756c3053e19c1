using System.Runtime.InteropServices;
using static Jsmail.Common.Os.Errno;

namespace Jsmail.Common.Os;

/// <summary>Calls on processes: exec, waiting and its status, signalling, pidfds, leaving.</summary>
public static unsafe partial class Libc
{
    public const int WNOHANG = 1;

    [LibraryImport(L, EntryPoint = "getpid")] public static partial int Getpid();

    /// <summary>Leaves at once: no finalizers, no flushing, as qmail's _exit.</summary>
    [LibraryImport(L, EntryPoint = "_exit")]
    public static partial void Exit(int status);

    /// <summary>The raw call; programs exec through <see cref="Exec.Replace"/>.</summary>
    [LibraryImport(L, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Execve(string path, byte** argv, byte** envp);

    [LibraryImport(L, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    [LibraryImport(L, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitpidRaw(int pid, int* status, int options);

    /// <summary>waitpid(2) retried on EINTR; returns the raw status or -1.</summary>
    public static int Waitpid(int pid, out int status, int options = 0)
    {
        int s = 0;
        while (true)
        {
            var r = WaitpidRaw(pid, &s, options);
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
