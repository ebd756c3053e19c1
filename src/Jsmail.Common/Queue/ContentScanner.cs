using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// Runs the programs named in control/queuescanners on a written but not yet
/// committed message (docs/content-scanning.md). Each sees the message on fd 0,
/// the envelope on fd 3, and may print a reply text on fd 1; its exit code
/// decides: 0 accept, 100 reject permanently, 111 reject temporarily. Anything
/// else (cannot start, killed, other codes, past control/timeoutqueuescan) is a
/// temporary failure: never a silent accept.
/// A refusal's verdict is 31 or 71 with the reply text (D or Z first) when
/// the scanner gave one: jsmail-queue writes it on the caller's error pipe,
/// jsmail-queued puts it in its reply.
/// </summary>
public sealed class ContentScanner(IReadOnlyList<string[]> commands, int timeoutSeconds, string home)
{
    public const int Accept = 0, RejectPermanently = 100, RejectTemporarily = 111;
    private const int MaxText = QueueClient.MaxErrorText - 1;
    private const int MaxOutput = 1024; // more than the reply text needs; the rest is read and dropped

    public static ContentScanner? FromControl(ControlReader control, string home)
    {
        var lines = control.ReadList("queuescanners");
        if (lines.Count == 0) return null;
        var commands = lines
            .Select(l => Encoding.UTF8.GetString(l).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(c => c.Length > 0)
            .ToList();
        var timeout = (int)Math.Clamp(control.ReadInt("timeoutqueuescan", 300), 1, 86400);
        return commands.Count == 0 ? null : new ContentScanner(commands, timeout, home);
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
        using var mess = new OwnedFd(Libc.MoveHigh(Libc.Open(request.MessPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0)));
        using var envelope = new OwnedFd(Libc.MoveHigh(Libc.MemfdCreate("envelope", Libc.MFD_CLOEXEC)));
        if (!mess.IsOpen || !envelope.IsOpen || !Libc.WriteAll(envelope.Fd, request.Envelope) || Libc.Lseek(envelope.Fd, 0, 0) != 0)
            return (false, "unable to set up content scan (#4.3.0)");
        var result = ChildRunner.Run(new ChildRequest(command[0], ChildRequest.Utf8(command))
        {
            Environment = ScannerEnvironment(request),
            Fds = [ChildFd.Pass(0, mess.Fd), ChildFd.Capture(1, MaxOutput), ChildFd.Pass(3, envelope.Fd)],
            TimeLimit = TimeSpan.FromSeconds(timeoutSeconds),
        });
        return result.End switch
        {
            ChildEnd.SetupFailed => (false, "unable to set up content scan (#4.3.0)"),
            ChildEnd.CouldNotStart => (false, "unable to run content scanner (#4.3.0)"),
            ChildEnd.TimedOut => (false, "content scan timed out (#4.3.0)"),
            ChildEnd.Signalled => (false, "content scanner crashed (#4.3.0)"),
            _ => result.Code switch
            {
                Accept => (null, null),
                RejectPermanently => (true, FirstLine(result.Output(1))),
                RejectTemporarily => (false, FirstLine(result.Output(1))),
                _ => (false, "content scanner failed (#4.3.0)"),
            },
        };
    }

    private byte[][] ScannerEnvironment(ScanRequest request) => ChildRequest.Utf8(
    [
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "JSMAIL_HOME=" + home,
        "JSMAIL_UID=" + request.CallerUid,
        "JSMAIL_MESSAGE_ID=" + request.Id,
    ]);

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

    /// <summary>31 or 71, so the class is never lost, with the text to pass on as a custom error (exit 82) where it can be.</summary>
    private static ScanVerdict Refuse(bool permanent, string? text) =>
        new(permanent ? QueueExit.PermanentRefusal : QueueExit.TemporaryRefusal,
            text == null ? null : (permanent ? "D" : "Z") + text);

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
