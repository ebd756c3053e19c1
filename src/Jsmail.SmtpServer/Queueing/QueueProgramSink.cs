using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.SmtpServer.Queueing;

/// <summary>
/// One message for the queue program (bin/qmail-queue, or QMAILQUEUE from the
/// rules), without blocking the event loop: the bytes go into a memfd as they
/// arrive, and at the end the program runs with ChildRunner.RunAsync, fd 0 the
/// memfd rewound, fd 1 the envelope, and the error pipe of QueueClient on fds
/// 4 and 6 for a filter's own text. Its exit maps to qmail's reply texts
/// exactly as QueueClient maps it (QueueResult.FromExit).
/// </summary>
/// <param name="home">the qmail home, the server's working directory</param>
/// <param name="qmailQueue">QMAILQUEUE as the session sees it, or null</param>
/// <param name="environment">the session's environment, which the queue program and its filters see</param>
public sealed class QueueProgramSink : IMessageSink
{
    private readonly OwnedFd _message;
    private readonly string _home;
    private readonly string? _qmailQueue;
    private readonly IReadOnlyList<byte[]> _environment;
    private bool _writeError;

    /// <summary>The queue program's pid once it ran (qmail-smtpd's "qp"); -1 before.</summary>
    public int Pid { get; private set; } = -1;

    public QueueProgramSink(string home, string? qmailQueue, IReadOnlyList<byte[]> environment)
    {
        _home = home;
        _qmailQueue = qmailQueue;
        _environment = environment;
        var fd = Libc.MemfdCreate("jsmail-smtpd-message", Libc.MFD_CLOEXEC);
        // ChildFd.Pass wants a descriptor above the child's own numbers.
        _message = new OwnedFd(fd < 0 ? -1 : Libc.MoveHigh(fd));
        _writeError = !_message.IsOpen;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_writeError || data.IsEmpty) return;
        if (!Libc.WriteAll(_message.Fd, data)) _writeError = true;
    }

    /// <summary>Nothing is queued.</summary>
    public void Abort() => _message.Dispose();

    /// <param name="cancel">the session's end: the program is killed and nothing is answered</param>
    public async ValueTask<QueueResult> CommitAsync(QueueEnvelope envelope, CancellationToken cancel)
    {
        var home = _home;
        try
        {
            // A message we could not keep whole is not handed on: the program's own reply for that.
            if (_writeError || Libc.Lseek(_message.Fd, 0, Libc.SEEK_SET) != 0) return QueueResult.Of(QueueResult.ReadError);
            var program = string.IsNullOrEmpty(_qmailQueue) ? QueueClient.DefaultProgram : _qmailQueue;
            var path = Path.IsPathRooted(program) ? program : Path.Combine(home, program);
            var result = await ChildRunner.RunAsync(new ChildRequest(path, [System.Text.Encoding.UTF8.GetBytes(path)])
            {
                Environment = _environment,
                Fds =
                [
                    ChildFd.Pass(0, _message.Fd), ChildFd.Feed(1, envelope.Encode()),
                    ChildFd.Capture(4, QueueClient.MaxErrorText), ChildFd.Capture(6, QueueClient.MaxErrorText),
                ],
            }, cancel);
            Pid = result.Pid;
            return result.End switch
            {
                ChildEnd.Exited => QueueResult.FromExit(result.Code, callerWriteError: false, ErrorText(result)),
                ChildEnd.CouldNotStart => QueueResult.CouldNotStart(home),
                ChildEnd.SetupFailed => QueueResult.Of("Zqq out of memory (#4.3.0)"), // as qmail_open's failed pipe
                _ => QueueResult.FromSignal(),
            };
        }
        finally { _message.Dispose(); }
    }

    /// <summary>The filter's text from whichever of the two descriptors it used (the original patch's 4, notqmail's 6).</summary>
    private static byte[] ErrorText(ChildResult result) =>
        result.Output(4) is { Length: > 0 } four ? four : result.Output(6);
}
