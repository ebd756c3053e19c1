using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

public static unsafe partial class Libc
{
    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockRaw(int fd, int operation);

    /// <summary>flock(2), retried on EINTR.</summary>
    public static int Flock(int fd, int operation)
    {
        while (true)
        {
            var r = FlockRaw(fd, operation);
            if (r == 0 || Errno != EINTR) return r;
        }
    }
}
