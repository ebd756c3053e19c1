using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.SmtpServer.Queueing;

/// <summary>Where server mode's messages are queued (--queue).</summary>
public enum QueueMode
{
    /// <summary>jsmail-queued when it listens, else the queue program: group commit wherever the service runs.</summary>
    ServiceOrProgram,
    /// <summary>Always jsmail-queued; while it is down every message gets 451 4.3.0.</summary>
    Service,
    /// <summary>Always the queue program, one per message, as qmail-smtpd runs it.</summary>
    Program,
}

/// <summary>
/// How a committed message reaches the queue: jsmail-queued over its Unix
/// socket (the memfd passed, not copied), or the queue program run with
/// ChildRunner.RunAsync with the memfd on fd 0, the envelope on fd 1 and the
/// error pipe of QueueClient on fds 4 and 6. QMAILQUEUE (from the rules or the
/// environment) always means the program it names, as in qmail, and a session
/// in JSMAIL_COMPAT=qmail always runs the queue program. Either way
/// the result is qmail's text, mapped as QueueClient maps it.
/// </summary>
public sealed class QueueRoute(string home, QueueMode mode, QueueServiceClient? service) : IDisposable
{
    public QueueMode Mode => mode;

    /// <param name="compat">the session is in JSMAIL_COMPAT=qmail: the queue program, as qmail-smtpd runs it</param>
    public async ValueTask<(QueueResult Result, int Pid)> CommitAsync(int messageFd, QueueEnvelope envelope, string? qmailQueue,
        bool compat, IReadOnlyList<byte[]> environment, CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(qmailQueue) && !compat && mode != QueueMode.Program && service != null)
        {
            var answer = await service.SendAsync(messageFd, envelope.Encode(), cancel);
            if (answer.Reached || mode == QueueMode.Service) return (answer.Result, answer.QueuePid);
            // not listening: the message certainly is not queued, and the program may take it
            if (Libc.Lseek(messageFd, 0, Libc.SEEK_SET) != 0) return (QueueResult.Of(QueueResult.ReadError), -1);
        }
        return await RunProgramAsync(messageFd, envelope, qmailQueue, environment, cancel);
    }

    private async ValueTask<(QueueResult, int)> RunProgramAsync(int messageFd, QueueEnvelope envelope, string? qmailQueue,
        IReadOnlyList<byte[]> environment, CancellationToken cancel)
    {
        var program = string.IsNullOrEmpty(qmailQueue) ? QueueClient.DefaultProgram : qmailQueue;
        var path = Path.IsPathRooted(program) ? program : Path.Combine(home, program);
        var result = await ChildRunner.RunAsync(new ChildRequest(path, [System.Text.Encoding.UTF8.GetBytes(path)])
        {
            Environment = environment,
            Fds =
            [
                ChildFd.Pass(0, messageFd), ChildFd.Feed(1, envelope.Encode()),
                ChildFd.Capture(4, QueueClient.MaxErrorText), ChildFd.Capture(6, QueueClient.MaxErrorText),
            ],
        }, cancel);
        return (result.End switch
        {
            ChildEnd.Exited => QueueResult.FromExit(result.Code, callerWriteError: false, ErrorText(result)),
            ChildEnd.CouldNotStart => QueueResult.CouldNotStart(home),
            ChildEnd.SetupFailed => QueueResult.Of("Zqq out of memory (#4.3.0)"), // as qmail_open's failed pipe
            _ => QueueResult.FromSignal(),
        }, result.Pid);
    }

    /// <summary>The filter's text from whichever of the two descriptors it used (the original patch's 4, notqmail's 6).</summary>
    private static byte[] ErrorText(ChildResult result) =>
        result.Output(4) is { Length: > 0 } four ? four : result.Output(6);

    public void Dispose() => service?.Dispose();
}
