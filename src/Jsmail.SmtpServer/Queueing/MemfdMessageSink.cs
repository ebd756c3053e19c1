using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.SmtpServer.Queueing;

/// <summary>
/// One message on its way to the queue without blocking the event loop: the
/// bytes go into a memfd as they arrive (the Received line, then the data:
/// what the queue program reads on fd 0), and at the final dot the
/// <see cref="QueueRoute"/> hands the memfd on, to jsmail-queued or to the
/// queue program, and learns the result.
/// </summary>
/// <param name="qmailQueue">QMAILQUEUE as the session sees it, or null</param>
/// <param name="compat">the session is in JSMAIL_COMPAT=qmail</param>
/// <param name="environment">the session's environment, which a queue program and its filters see</param>
public sealed class MemfdMessageSink(QueueRoute route, string? qmailQueue, bool compat, IReadOnlyList<byte[]> environment) : IMessageSink
{
    private readonly OwnedFd _message = Open();
    private bool _writeError;

    /// <summary>qmail-smtpd's "qp": the queue program's or the queue service's pid once committed; -1 before.</summary>
    public int Pid { get; private set; } = -1;

    private static OwnedFd Open()
    {
        var fd = Libc.MemfdCreate("jsmail-smtpd-message", Libc.MFD_CLOEXEC);
        // ChildFd.Pass wants a descriptor above the child's own numbers.
        return new OwnedFd(fd < 0 ? -1 : Libc.MoveHigh(fd));
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_writeError || data.IsEmpty) return;
        if (!_message.IsOpen || !Libc.WriteAll(_message.Fd, data)) _writeError = true;
    }

    /// <summary>Nothing is queued.</summary>
    public void Abort() => _message.Dispose();

    /// <param name="cancel">the session's end: a queue program is killed, and nothing is answered</param>
    public async ValueTask<QueueResult> CommitAsync(QueueEnvelope envelope, CancellationToken cancel)
    {
        try
        {
            // A message we could not keep whole is not handed on: the queue program's own reply for that.
            if (_writeError || !_message.IsOpen || Libc.Lseek(_message.Fd, 0, Libc.SEEK_SET) != 0)
                return QueueResult.Of(QueueResult.ReadError);
            var (result, pid) = await route.CommitAsync(_message.Fd, envelope, qmailQueue, compat, environment, cancel);
            Pid = pid;
            return result;
        }
        finally { _message.Dispose(); }
    }
}
