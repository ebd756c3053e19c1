using Jsmail.Common.Envelope;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// Hands one message to the queue program, as qmail's qmail_open does: the
/// program ($QMAILQUEUE if set and non-empty, else bin/qmail-queue, relative to
/// the home, no PATH search) runs in the home directory with the message on
/// fd 0, the envelope on fd 1 and one error pipe offered on both fd 4 (the
/// original custom-error patch) and fd 6 (notqmail), so that filters written
/// for either convention can refuse a message with their own text.
/// Write the message, then Close with the envelope to learn the result.
/// </summary>
public sealed class QueueClient : IDisposable
{
    public const int MaxErrorText = 255;

    private int _messageFd = -1, _envelopeFd = -1, _errorFd = -1;
    private readonly int _pid = -1;
    private bool _writeError, _readerGone;
    private QueueResult? _failed;

    public static string DefaultProgram => "bin/qmail-queue";

    /// <summary>The queue program's pid: the "qp" of qmail-smtpd's reply, qmail-local's report and qmail-send's bounce log; -1 if it never started.</summary>
    public int Pid => _pid;

    private QueueClient(string home, string program)
    {
        int msgRead = -1, envRead = -1, errWrite = -1;
        try
        {
            if (!Libc.Pipe(out msgRead, out _messageFd) || !Libc.Pipe(out envRead, out _envelopeFd) ||
                !Libc.Pipe(out _errorFd, out errWrite))
            {
                _failed = QueueResult.Of("Zqq out of memory (#4.3.0)"); // qmail reports pipe failure so
                return;
            }
            _pid = Os.PosixSpawn.Start(program, [program], null,
                [(0, msgRead), (1, envRead), (4, errWrite), (6, errWrite)], cwd: home);
        }
        catch (SpawnException)
        {
            _failed = QueueResult.CouldNotStart(home);
        }
        finally
        {
            foreach (var fd in new[] { msgRead, envRead, errWrite })
                if (fd >= 0) Libc.Close(fd);
        }
    }

    /// <param name="home">the qmail home (the child runs there)</param>
    /// <param name="qmailQueue">the value of QMAILQUEUE, or null: callers decide whether to honour it</param>
    public static QueueClient Open(string home, string? qmailQueue)
    {
        var program = string.IsNullOrEmpty(qmailQueue) ? DefaultProgram : qmailQueue;
        // posix_spawn resolves a relative program against the parent's directory, qmail's execv in the home.
        var path = Path.IsPathRooted(program) ? program : Path.Combine(home, program);
        return new QueueClient(home, path);
    }

    public static QueueClient Open(string home) =>
        Open(home, Libc.GetenvText("QMAILQUEUE"));

    /// <summary>
    /// Message bytes. After a write error the rest is dropped and Close reports it;
    /// after the program stopped reading, the rest is dropped and its exit decides.
    /// </summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_failed != null || _writeError || _readerGone || data.IsEmpty) return;
        if (!Libc.WriteAll(_messageFd, data)) NoteWriteFailure();
    }

    /// <summary>
    /// EPIPE means the program closed its input, mostly by exiting, which it may do
    /// before or after our writes by chance: only its exit status can tell whether
    /// it took the message, so a broken pipe is not an error by itself. Any other
    /// write failure is ours, and qmail reports it as a read error.
    /// </summary>
    private void NoteWriteFailure()
    {
        if (Libc.Errno == Errno.EPIPE) _readerGone = true;
        else _writeError = true;
    }

    public Stream MessageStream => new WriteOnlyStream(this);

    /// <summary>
    /// Gives up on the message: the queue program sees its input end without an
    /// envelope, so it queues nothing, and it is waited for.
    /// </summary>
    public void Abort()
    {
        CloseFd(ref _messageFd);
        CloseFd(ref _envelopeFd);
        CloseFd(ref _errorFd);
        if (_pid > 0) Libc.Waitpid(_pid, out _);
        _failed ??= QueueResult.Of(QueueResult.ReadError);
    }

    /// <summary>Ends the message, sends the envelope and waits for the queue program.</summary>
    public QueueResult Close(QueueEnvelope envelope)
    {
        if (_failed is { } failed) return failed;
        CloseFd(ref _messageFd);
        if (!_writeError && !Libc.WriteAll(_envelopeFd, envelope.Encode())) NoteWriteFailure();
        CloseFd(ref _envelopeFd);

        var error = ReadErrorPipe();
        CloseFd(ref _errorFd);

        if (Libc.Waitpid(_pid, out var status) != _pid) return QueueResult.Of(QueueResult.WaitpidSurprise);
        if (!Libc.Exited(status)) return QueueResult.FromSignal();
        return QueueResult.FromExit(Libc.ExitCode(status), _writeError, error);
    }

    private byte[] ReadErrorPipe()
    {
        var kept = new byte[MaxErrorText];
        var length = 0;
        Span<byte> buf = stackalloc byte[512];
        while (true)
        {
            var n = Libc.Read(_errorFd, buf);
            if (n <= 0) break;
            var take = Math.Min(n, MaxErrorText - length);
            buf[..take].CopyTo(kept.AsSpan(length));
            length += take;
        }
        return kept[..length];
    }

    private static void CloseFd(ref int fd)
    {
        if (fd >= 0) Libc.Close(fd);
        fd = -1;
    }

    public void Dispose()
    {
        CloseFd(ref _messageFd);
        CloseFd(ref _envelopeFd);
        CloseFd(ref _errorFd);
        if (_pid > 0) Libc.Waitpid(_pid, out _, 1 /* WNOHANG: a caller that gave up must not hang here */);
    }

    private sealed class WriteOnlyStream(QueueClient client) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => client.Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => client.Write(buffer);
    }
}
