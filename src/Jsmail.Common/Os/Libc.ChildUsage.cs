using static Jsmail.Common.Os.Errno;
using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// The CPU time a child used, as the kernel counted it when it was reaped. The
/// benchmarks compare start-up by it as well as by the wall clock: on a machine
/// shared with builds, a child's wall time is mostly its wait for a core.
/// </summary>
public static unsafe partial class Libc
{
    // struct rusage on x86_64: ru_utime, ru_stime (struct timeval each), then 14 longs.
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Rusage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
    }

    [LibraryImport(L, EntryPoint = "wait4", SetLastError = true)]
    private static partial int Wait4Raw(int pid, int* status, int options, Rusage* usage);

    /// <summary>
    /// waitpid(2) that also returns the child's user plus system CPU time in
    /// milliseconds; retried on Errno.EINTR; returns the pid or -1.
    /// </summary>
    public static int WaitpidWithCpu(int pid, out int status, out double cpuMilliseconds)
    {
        int s = 0;
        Rusage usage;
        while (true)
        {
            var r = Wait4Raw(pid, &s, 0, &usage);
            if (r >= 0 || Errno != EINTR)
            {
                status = s;
                cpuMilliseconds = r < 0 ? 0 : (usage.UserSeconds + usage.SystemSeconds) * 1000.0
                    + (usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0;
                return r;
            }
        }
    }
}
