using Jsmail.Common.Os;

namespace Jsmail.Queue;

/// <summary>
/// A setuid Native AOT program has already let the runtime read DOTNET_*
/// variables (GC knobs, diagnostics) before Main. When the caller set any, the
/// program starts itself again with an empty environment (it needs none), so
/// nothing a caller chose shapes the process that writes the queue.
/// </summary>
internal static class Privileges
{
    public static void LeaveIfRuntimeWasConfiguredByCaller()
    {
        if (Libc.Getuid() == Libc.Geteuid()) return;
        var tainted = false;
        foreach (var entry in Libc.EnvironmentEntries())
            if (entry.AsSpan().StartsWith("DOTNET_"u8) || entry.AsSpan().StartsWith("COMPlus_"u8))
                tainted = true;
        if (!tainted) return;

        Exec.Replace("/proc/self/exe", ["qmail-queue"u8.ToArray()], []);
        throw new InvalidOperationException("re-exec failed"); // becomes exit 81
    }
}
