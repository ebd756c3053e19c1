using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Queue;

/// <summary>
/// A setuid Native AOT program has already let the runtime read DOTNET_*
/// variables (GC knobs, diagnostics) before Main. When the caller set any, the
/// program starts itself again with an empty environment (it needs none), so
/// nothing a caller chose shapes the process that writes the queue.
/// </summary>
internal static unsafe class Privileges
{
    public static void LeaveIfRuntimeWasConfiguredByCaller()
    {
        if (Libc.Getuid() == Libc.Geteuid()) return;
        var tainted = false;
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (name.StartsWith("DOTNET_", StringComparison.Ordinal) || name.StartsWith("COMPlus_", StringComparison.Ordinal))
                tainted = true;
        }
        if (!tainted) return;

        var self = "/proc/self/exe";
        var arg0 = Encoding.UTF8.GetBytes("qmail-queue\0");
        fixed (byte* a0 = arg0)
        {
            byte** argv = stackalloc byte*[2];
            argv[0] = a0;
            argv[1] = null;
            byte** envp = stackalloc byte*[1];
            envp[0] = null;
            Libc.Execve(self, argv, envp);
        }
        throw new InvalidOperationException("re-exec failed"); // becomes exit 81
    }
}
