using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Queue;

/// <summary>
/// Runs the programs named in control/queuescanners on a written but not yet
/// committed message (docs/content-scanning.md). Each sees the message on fd 0,
/// the envelope on fd 3, and may print a reply text on fd 1; its exit code
/// decides: 0 accept, 100 reject permanently, 111 reject temporarily. Anything
/// else (cannot start, killed, other codes, past control/timeoutqueuescan) is a
/// temporary failure: never a silent accept.
/// </summary>
internal sealed class ContentScanner(IReadOnlyList<string[]> commands, int timeoutSeconds, string home, uint callerUid)
{
    public const int Accept = 0, RejectPermanently = 100, RejectTemporarily = 111;
    private const int MaxText = QueueClient.MaxErrorText - 1;

    public static ContentScanner? FromControl(ControlReader control, string home, uint callerUid)
    {
        var lines = control.ReadList("queuescanners");
        if (lines.Count == 0) return null;
        var commands = lines
            .Select(l => Encoding.UTF8.GetString(l).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(c => c.Length > 0)
            .ToList();
        var timeout = (int)Math.Clamp(control.ReadInt("timeoutqueuescan", 300), 1, 86400);
        return commands.Count == 0 ? null : new ContentScanner(commands, timeout, home, callerUid);
    }

    public ScanVerdict Scan(ScanRequest request)
    {
        RunAsQueueOwner();
        foreach (var command in commands)
        {
            var (permanent, text) = RunOne(command, request);
            if (permanent == null) continue;
            return Refuse(permanent.Value, text);
        }
        return ScanVerdict.Accept;
    }

    /// <summary>(null, _) to accept; (true|false, text) to refuse permanently or temporarily.</summary>
    private (bool? Permanent, string? Text) RunOne(string[] command, ScanRequest request)
    {
        int messFd = -1, envFd = -1, outRead = -1, outWrite = -1, pid = -1;
        try
        {
            messFd = Libc.MoveHigh(Libc.Open(request.MessPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0));
            envFd = Libc.MoveHigh(Libc.MemfdCreate("envelope", 1 /* MFD_CLOEXEC */));
            if (messFd < 0 || envFd < 0 || !Libc.WriteAll(envFd, request.Envelope) || Libc.Lseek(envFd, 0, 0) != 0 ||
                !Libc.Pipe(out outRead, out outWrite))
                return (false, "unable to set up content scan (#4.3.0)");
            try
            {
                pid = PosixSpawn.Start(command[0], (IReadOnlyList<string>)command, ScannerEnvironment(request),
                    [(0, messFd), (1, outWrite), (3, envFd)], newProcessGroup: true);
            }
            catch (SpawnException) { return (false, "unable to run content scanner (#4.3.0)"); }
            Libc.Close(outWrite);
            outWrite = -1;

            var deadline = Environment.TickCount64 + timeoutSeconds * 1000L;
            var output = ReadOutput(outRead, deadline);
            var status = WaitUntil(pid, deadline);
            if (status == null)
            {
                Libc.Kill(-pid, Libc.SIGKILL);
                Libc.Kill(pid, Libc.SIGKILL);
                Libc.Waitpid(pid, out _);
                pid = -1;
                return (false, "content scan timed out (#4.3.0)");
            }
            pid = -1;
            if (!Libc.Exited(status.Value)) return (false, "content scanner crashed (#4.3.0)");
            return Libc.ExitCode(status.Value) switch
            {
                Accept => (null, null),
                RejectPermanently => (true, FirstLine(output)),
                RejectTemporarily => (false, FirstLine(output)),
                _ => (false, "content scanner failed (#4.3.0)"),
            };
        }
        finally
        {
            foreach (var fd in new[] { messFd, envFd, outRead, outWrite })
                if (fd >= 0) Libc.Close(fd);
            if (pid > 0) { Libc.Kill(-pid, Libc.SIGKILL); Libc.Waitpid(pid, out _); }
        }
    }

    /// <summary>Reads the scanner's output until EOF or the deadline, keeping the first KiB.</summary>
    private static byte[] ReadOutput(int fd, long deadline)
    {
        var kept = new List<byte>(256);
        Span<byte> buf = stackalloc byte[4096];
        Span<Libc.PollFd> pfd = stackalloc Libc.PollFd[1];
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return kept.ToArray();
            pfd[0] = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            if (Libc.Poll(pfd, (int)Math.Min(left, int.MaxValue)) == 0) continue;
            var n = Libc.Read(fd, buf);
            if (n <= 0) return kept.ToArray();
            for (var i = 0; i < n && kept.Count < 1024; i++) kept.Add(buf[i]);
        }
    }

    /// <summary>The scanner's wait status, or null if it is still running at the deadline.</summary>
    private static int? WaitUntil(int pid, long deadline)
    {
        var pause = 1;
        while (true)
        {
            var r = Libc.Waitpid(pid, out var status, 1 /* WNOHANG */);
            if (r == pid) return status;
            if (r < 0) return null;
            if (Environment.TickCount64 >= deadline) return null;
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 50);
        }
    }

    private string[] ScannerEnvironment(ScanRequest request) =>
    [
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "JSMAIL_HOME=" + home,
        "JSMAIL_UID=" + callerUid,
        "JSMAIL_MESSAGE_ID=" + request.Id,
    ];

    /// <summary>The reply text: the first line, printable ASCII only, at most 254 bytes.</summary>
    internal static string? FirstLine(ReadOnlySpan<byte> output)
    {
        var nl = output.IndexOf((byte)'\n');
        var line = nl >= 0 ? output[..nl] : output;
        var sb = new StringBuilder();
        foreach (var b in line)
        {
            if (sb.Length == MaxText) break;
            if (b == '\r') continue;
            sb.Append(b is >= 32 and < 127 ? (char)b : '?');
        }
        var text = sb.ToString().Trim();
        return text.Length == 0 ? null : text;
    }

    /// <summary>
    /// With a text, exit 82 and the text on the error pipe; without one, or when
    /// the caller offered no pipe, 31 or 71, so the class is never lost.
    /// </summary>
    private static ScanVerdict Refuse(bool permanent, string? text)
    {
        if (text != null && ErrorPipe.Write((permanent ? "D" : "Z") + text))
            return new ScanVerdict(QueueExit.CustomError);
        return new ScanVerdict(permanent ? QueueExit.PermanentRefusal : QueueExit.TemporaryRefusal);
    }

    /// <summary>
    /// Scanners are the administrator's programs: they run wholly as the queue
    /// owner (the effective uid), not half as the caller.
    /// </summary>
    private static void RunAsQueueOwner()
    {
        var euid = Libc.Geteuid();
        if (Libc.Getuid() != euid) Libc.Setreuid(euid, euid);
    }
}
