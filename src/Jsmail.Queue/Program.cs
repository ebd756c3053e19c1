using System.Runtime.InteropServices;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Queue;

/// <summary>
/// jsmail-queue, a drop-in qmail-queue: message on fd 0, envelope on fd 1,
/// silent, the exit code is the answer (qmail-interfaces §1). It takes nothing
/// from its environment: it may run setuid, and an environment switch that
/// turned content scanning off would be a way round it.
/// </summary>
public static class Program
{
    private static PosixSignalRegistration?[]? s_crashHandlers; // kept alive: a collected registration unregisters

    private const uint Death = 86400; // 24 h: below qmail-send's 36 h ossification

    public static int Main()
    {
        try
        {
            ErrorPipe.TakeStock();
            Privileges.LeaveIfRuntimeWasConfiguredByCaller();
            Libc.UnblockAllSignals();
            Libc.Umask(0x1B); // 033
            using var alarm = PosixSignalRegistration.Create((PosixSignal)14, _ => Libc.Exit(QueueExit.Timeout));
            s_crashHandlers = CrashSignals.Select(Crash).ToArray();
            foreach (var sig in IgnoredSignals) Libc.Signal(sig, Libc.SIG_IGN);

            string home;
            try { home = QmailHome.Current; }
            catch (Exception) { return QueueExit.HomeProblem; } // our own path is gone: no home to enter
            if (Libc.Chdir(home) != 0) return QueueExit.HomeProblem;
            if (Libc.Chdir("queue") != 0) return QueueExit.QueueDirProblem;

            var pid = Libc.Getpid();
            var uid = Libc.Getuid();
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var how = QueueReceived.How(uid, Libc.GetPasswd(uid)?.Name);
            Libc.Alarm(Death);

            ContentScanner? scanner;
            try { scanner = ContentScanner.FromControl(new ControlReader(home), home, uid); }
            catch (IOException) { return QueueExit.ConfigError; }

            var commit = new QueueCommit(pid, uid, now, QueueReceived.Line(pid, how, now))
            {
                Scan = scanner == null ? null : scanner.Scan,
            };
            return commit.Run();
        }
        catch (OutOfMemoryException) { return QueueExit.OutOfMemory; }
        catch (Exception) { return QueueExit.InternalBug; }
    }

    /// <summary>qmail-queue reports these as an internal bug (81) and leaves its files.</summary>
    private static readonly int[] CrashSignals = [4 /* ILL */, 6 /* ABRT */, 8 /* FPE */, 7 /* BUS */, 31 /* SYS */];

    private static PosixSignalRegistration? Crash(int sig)
    {
        try { return PosixSignalRegistration.Create((PosixSignal)sig, _ => Libc.Exit(QueueExit.InternalBug)); }
        catch (Exception) { return null; } // a signal the runtime keeps for itself stays the runtime's
    }

    // SIGPIPE is ignored by the runtime already; qmail-queue ignores these as well.
    private static readonly int[] IgnoredSignals = [26 /* VTALRM */, 27 /* PROF */, 3 /* QUIT */, 2 /* INT */, 1 /* HUP */, 24 /* XCPU */, 25 /* XFSZ */];
}
