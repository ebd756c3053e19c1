using System.Runtime.InteropServices;

namespace Jsmail.Queue;

/// <summary>
/// qmail-queue's signal handlers end the process with a fixed exit code (52 on
/// SIGALRM, 81 on a crash signal) and do nothing else. .NET's
/// PosixSignalRegistration would do it through a signal-handling thread, a
/// pipe and managed code: a tenth of jsmail-queue's start-up, paid on every
/// message. A managed method cannot be a signal handler itself (the signal may
/// arrive while the runtime is in the middle of anything), so the handler is a
/// few lines of C, native/exit_on_signal.c, compiled and linked into the
/// executable at publish (Jsmail.Queue.csproj) and bound by the linker.
/// </summary>
internal static partial class ExitOnSignal
{
    /// <summary>
    /// Installs, for each (signal, exit code), a handler that exits with that
    /// code. This replaces a handler the runtime has installed, such as its
    /// SIGFPE handler: a managed division by zero then ends the program with the
    /// same code its exception would have reached. False if a signal could
    /// not be caught (never for the signals jsmail-queue names).
    /// </summary>
    public static bool Install(ReadOnlySpan<(int Signal, int ExitCode)> handlers)
    {
        var all = true;
        foreach (var (signal, exitCode) in handlers)
            all &= ExitWithCodeOn(signal, exitCode) == 0;
        return all;
    }

    [LibraryImport(NativeLibrary, EntryPoint = "jsmail_exit_on_signal")]
    private static partial int ExitWithCodeOn(int signal, int exitCode);

    /// <summary>The name Jsmail.Queue.csproj binds directly to the linked object.</summary>
    private const string NativeLibrary = "jsmail-queue-native";
}
