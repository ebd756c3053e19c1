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
    private const uint Death = 86400; // 24 h: below qmail-send's 36 h ossification

    public static int Main()
    {
        try
        {
            ErrorPipe.TakeStock();
            Privileges.LeaveIfRuntimeWasConfiguredByCaller();
            Libc.UnblockAllSignals();
            Libc.Umask(0x1B); // 033
            if (!ExitOnSignal.Install(ExitSignals)) return QueueExit.InternalBug;
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
            try { scanner = ContentScanner.FromControl(new ControlReader(home), home); }
            catch (IOException) { return QueueExit.ConfigError; }

            var commit = new QueueCommit(pid, uid, now, QueueReceived.Line(pid, how, now))
            {
                Scan = scanner == null ? null : request => ErrorPipe.PassOn(scanner.Scan(request)),
            };
            return commit.Run();
        }
        catch (OutOfMemoryException) { return QueueExit.OutOfMemory; }
        catch (Exception) { return QueueExit.InternalBug; }
    }

    /// <summary>
    /// SIGALRM (the death timer) exits 52; the crash signals exit 81, which
    /// qmail-queue reports as an internal bug. Neither cleans up: qmail-clean does.
    /// </summary>
    private static readonly (int Signal, int ExitCode)[] ExitSignals =
    [
        (Libc.SIGALRM, QueueExit.Timeout),
        (Libc.SIGILL, QueueExit.InternalBug), (Libc.SIGABRT, QueueExit.InternalBug), (Libc.SIGFPE, QueueExit.InternalBug),
        (Libc.SIGBUS, QueueExit.InternalBug), (Libc.SIGSYS, QueueExit.InternalBug),
    ];

    // SIGPIPE is ignored by the runtime already; qmail-queue ignores these as well.
    private static readonly int[] IgnoredSignals =
        [Libc.SIGVTALRM, Libc.SIGPROF, Libc.SIGQUIT, Libc.SIGINT, Libc.SIGHUP, Libc.SIGXCPU, Libc.SIGXFSZ];
}
