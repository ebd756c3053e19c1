using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>Signal numbers (Linux's, the same on x86-64 and arm64), dispositions, the mask, alarm.</summary>
public static unsafe partial class Libc
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
        SIGKILL = 9, SIGSEGV = 11, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17,
        SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGSYS = 31;

    public const nint SIG_DFL = 0, SIG_IGN = 1;

    private const int SIG_SETMASK = 2;

    /// <summary>glibc's sigset_t: 1024 bits, though the kernel uses 64.</summary>
    internal const int SigsetSize = 128;

    [LibraryImport(L, EntryPoint = "signal")]
    public static partial nint Signal(int sig, nint handler);

    [LibraryImport(L, EntryPoint = "alarm")]
    public static partial uint Alarm(uint seconds);

    [LibraryImport(L, EntryPoint = "sigprocmask", SetLastError = true)]
    private static partial int SigprocmaskRaw(int how, byte* set, byte* old);

    /// <summary>Unblocks every signal (a caller may have left some blocked).</summary>
    public static void UnblockAllSignals()
    {
        byte* empty = stackalloc byte[SigsetSize];
        new Span<byte>(empty, SigsetSize).Clear();
        SigprocmaskRaw(SIG_SETMASK, empty, null);
    }
}
