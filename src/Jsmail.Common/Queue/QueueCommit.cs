using System.Buffers;
using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>A decision on a message that is written but not yet committed.</summary>
/// Text, when there is one, is the reply a refusing scanner gave, with its
/// class letter (D or Z): the caller decides how it reaches the client.
public readonly record struct ScanVerdict(int ExitCode, string? Text = null)
{
    public static readonly ScanVerdict Accept = new(0);
    public bool Accepted => ExitCode == 0;
}

/// <summary>What a content check sees: the message file (queue-relative), the whole envelope and the caller's uid.</summary>
public sealed record ScanRequest(ulong Id, string MessPath, byte[] Envelope, uint CallerUid);

/// <summary>
/// qmail-queue's placement algorithm (§1.3 steps 4-10), run inside queue/:
/// pid file → mess link → message → intd → envelope → [ext] → [scan] → todo link → trigger.
/// Only read (54) and write (53) errors clean up after themselves; every other
/// failure leaves its files for the 36-hour cleanups, exactly as qmail does.
/// A scanner's rejection removes what it wrote: nothing refused stays behind.
/// Returns the exit code.
/// jsmail-queue runs it whole (<see cref="Run"/>, every file fsynced on its
/// own); jsmail-queued runs it in two halves around its group commit
/// (<see cref="Prepare"/> without syncs, one sync for many messages, then
/// <see cref="LinkTodo"/>), so both write the very same files.
/// </summary>
public sealed class QueueCommit(int pid, uint realUid, long startTime, byte[] receivedLine)
{
    public const int MessageFd = 0, EnvelopeFd = 1;

    /// <summary>How long to wait for an extension block or EOF after the final NUL.</summary>
    public int ExtensionWaitMs { get; init; } = 10_000;

    /// <summary>Called after everything is on disk, before the commit link. Null: no scanning.</summary>
    public Func<ScanRequest, ScanVerdict>? Scan { get; init; }

    /// <summary>The message, without the Received line (jsmail-queue: fd 0).</summary>
    public QueueInput Message { get; init; } = new FdQueueInput(MessageFd);

    /// <summary>The envelope and its optional extension block (jsmail-queue: fd 1).</summary>
    public QueueInput Envelope { get; init; } = new FdQueueInput(EnvelopeFd);

    /// <summary>
    /// False when the caller makes the files durable itself (jsmail-queued's
    /// group commit) before it calls <see cref="LinkTodo"/>.
    /// </summary>
    public bool SyncEachFile { get; init; } = true;

    /// <summary>
    /// The first sequence number tried for the pid file: jsmail-queued writes
    /// many messages under one pid within a second, so it numbers them.
    /// </summary>
    public long FirstPidSequence { get; init; } = 1;

    private ulong _id;
    private int _messFd = -1, _intdFd = -1;
    private bool _extWritten;

    public ulong Id => _id;

    /// <summary>The message's size as queued, Received line included.</summary>
    public long MessageBytes { get; private set; }

    public int Run()
    {
        try
        {
            var exit = Prepare();
            if (exit != QueueExit.Ok) return exit;
            exit = LinkTodo();
            if (exit == QueueExit.Ok) PullTrigger();
            return exit;
        }
        finally { CloseFiles(); }
    }

    public void CloseFiles()
    {
        if (_messFd >= 0) Libc.Close(_messFd);
        if (_intdFd >= 0) Libc.Close(_intdFd);
        _messFd = _intdFd = -1;
    }

    /// <summary>
    /// The commit: intd linked as todo/&lt;id&gt;, after which jsmail-send owns
    /// the message. A failure here leaves the files to qmail-clean, as qmail-queue does.
    /// </summary>
    public int LinkTodo() =>
        Libc.Link(QueueLayout.Intd(_id), QueueLayout.Todo(_id)) == 0 ? QueueExit.Ok : QueueExit.TodoProblem;

    /// <summary>Removes what a prepared message wrote, when it will not be committed (its files could not be made durable).</summary>
    public int Abandon(int exitCode) => CleanUp(exitCode);

    /// <summary>Everything up to the commit link: pid file, mess, intd, ext, scan.</summary>
    public int Prepare()
    {
        var pidPath = "";
        var pidFd = -1;
        for (var seq = FirstPidSequence; seq < FirstPidSequence + 9 && pidFd < 0; seq++)
        {
            pidPath = QueueLayout.Pid(pid, startTime, seq);
            pidFd = Libc.Open(pidPath, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        }
        if (pidFd < 0) return QueueExit.PidProblem;
        _messFd = pidFd;
        if (Libc.Fstat(pidFd, out var st) != 0) return QueueExit.PidProblem;
        _id = st.Ino;

        if (Libc.Link(pidPath, QueueLayout.Mess(_id)) != 0) return QueueExit.MessProblem;
        if (Libc.Unlink(pidPath) != 0) return QueueExit.PidProblem;

        if (CopyMessage() is var copied and not 0) return CleanUp(copied);
        if (SyncEachFile && Libc.Fsync(_messFd) != 0) return CleanUp(QueueExit.WriteError);

        _intdFd = Libc.Open(QueueLayout.Intd(_id), Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        if (_intdFd < 0) return QueueExit.IntdProblem;

        var intd = new FdWriter(_intdFd);
        intd.Write(Encoding.ASCII.GetBytes($"u{realUid}\0p{pid}\0"));
        var captured = Scan != null ? new ArrayBufferWriter<byte>() : null;
        var (envelopeExit, extension) = ReadEnvelope(captured == null ? intd : new TeeWriter(intd, captured));
        if (envelopeExit != 0)
            return envelopeExit is QueueExit.ReadError or QueueExit.WriteError ? CleanUp(envelopeExit) : envelopeExit;
        if (!intd.Flush() || (SyncEachFile && Libc.Fsync(_intdFd) != 0)) return CleanUp(QueueExit.WriteError);

        if (extension != null && WriteExtension(extension) is var extExit and not 0)
            return extExit == QueueExit.WriteError ? CleanUp(extExit) : extExit;

        if (Scan != null && captured != null)
        {
            captured.Write((ReadOnlySpan<byte>)[0]);
            if (extension != null) captured.Write(extension);
            var verdict = Scan(new ScanRequest(_id, QueueLayout.Mess(_id), captured.WrittenSpan.ToArray(), realUid));
            if (!verdict.Accepted) return CleanUp(verdict.ExitCode);
        }
        return QueueExit.Ok;
    }

    /// <summary>
    /// One read buffer for the message and then the envelope (never both at once),
    /// not zeroed: a process that starts per message should not clear and fault in
    /// 64 KiB it may never use.
    /// </summary>
    private byte[] IoBuffer => _ioBuffer ??= GC.AllocateUninitializedArray<byte>(65536);
    private byte[]? _ioBuffer;

    private int CopyMessage()
    {
        if (!Libc.WriteAll(_messFd, receivedLine)) return QueueExit.WriteError;
        MessageBytes = receivedLine.Length;
        var buf = IoBuffer;
        while (true)
        {
            var n = Message.Read(buf);
            if (n < 0) return QueueExit.ReadError;
            if (n == 0) return 0;
            if (!Libc.WriteAll(_messFd, buf.AsSpan(0, n))) return QueueExit.WriteError;
            MessageBytes += n;
        }
    }

    /// <summary>Reads the qmail envelope into intd, then looks for an extension block after it.</summary>
    private (int Exit, byte[]? Extension) ReadEnvelope(IBufferWriter<byte> output)
    {
        var parser = new EnvelopeParser();
        var buf = IoBuffer;
        int start = 0, end = 0;
        while (parser.Status == EnvelopeStatus.Reading)
        {
            if (start == end)
            {
                var n = Envelope.Read(buf);
                if (n <= 0) return (QueueExit.ReadError, null);
                start = 0;
                end = n;
            }
            start += parser.Feed(buf.AsSpan(start, end - start), output);
        }
        switch (parser.Status)
        {
            case EnvelopeStatus.AddressTooLong: return (QueueExit.AddressTooLong, null);
            case EnvelopeStatus.BadFormat: return (QueueExit.EnvelopeFormat, null);
        }
        var (exit, block) = ReadExtensionBlock(buf.AsSpan(start, end - start));
        if (exit != 0) return (exit, null);
        if (block != null)
        {
            try { EnvelopeExtensionCodec.Decode(block, parser.RecipientCount); }
            catch (EnvelopeExtensionException) { return (QueueExit.EnvelopeFormat, null); }
        }
        return (0, block);
    }

    /// <summary>
    /// After the final NUL a plain qmail caller sends nothing more and closes the
    /// pipe. jsmail's callers may append an extension block (starting with X) in
    /// the same write. Anything else is ignored, as qmail-queue ignores it; a caller
    /// that neither closes nor writes is not waited for beyond ExtensionWaitMs.
    /// </summary>
    private (int Exit, byte[]? Block) ReadExtensionBlock(ReadOnlySpan<byte> already)
    {
        var data = new ArrayBufferWriter<byte>();
        data.Write(already);
        if (data.WrittenCount == 0)
        {
            if (!Envelope.WaitReadable(ExtensionWaitMs)) return (0, null);
            if (!ReadMore(data, out var eof) || eof) return (0, null);
        }
        if (data.WrittenSpan[0] != (byte)'X') return (0, null);
        while (true)
        {
            var length = EnvelopeExtensionCodec.BlockLength(data.WrittenSpan);
            if (length >= 0) return (0, data.WrittenSpan[..length].ToArray());
            if (data.WrittenCount > EnvelopeExtensionCodec.MaxBlock) return (QueueExit.EnvelopeFormat, null);
            if (!ReadMore(data, out var eof)) return (QueueExit.ReadError, null);
            if (eof) return (QueueExit.ReadError, null);
        }
    }

    private bool ReadMore(ArrayBufferWriter<byte> data, out bool eof)
    {
        var n = Envelope.Read(data.GetSpan(4096));
        eof = n == 0;
        if (n > 0) data.Advance(n);
        return n >= 0;
    }

    /// <summary>
    /// ext/&lt;split&gt;/&lt;id&gt;: any file already there belongs to a message that
    /// no longer exists (the id is the inode of our new mess file), so it goes.
    /// A queue without ext/ (qmail's own, before install.sh added it) keeps the
    /// message and drops the extension: delivery matters more than parameters.
    /// </summary>
    private int WriteExtension(byte[] block)
    {
        var path = QueueLayout.Ext(_id);
        Libc.Unlink(path);
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        if (fd < 0) return Libc.Errno == Errno.ENOENT ? 0 : QueueExit.QueueDirProblem;
        _extWritten = true;
        using var fdOwner = new OwnedFd(fd);
        return Libc.WriteAll(fd, block) && (!SyncEachFile || Libc.Fsync(fd) == 0) ? 0 : QueueExit.WriteError;
    }

    private int CleanUp(int exitCode)
    {
        if (_intdFd >= 0)
        {
            Libc.Ftruncate(_intdFd, 0);
            Libc.Unlink(QueueLayout.Intd(_id));
        }
        if (_extWritten) Libc.Unlink(QueueLayout.Ext(_id));
        Libc.Ftruncate(_messFd, 0);
        Libc.Unlink(QueueLayout.Mess(_id));
        return exitCode;
    }

    /// <summary>Wakes jsmail-send (qmail-send) through lock/trigger; a missing or full fifo is no error.</summary>
    public static void PullTrigger()
    {
        var fd = Libc.Open(QueueLayout.Trigger, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return;
        using var fdOwner = new OwnedFd(fd);
        Libc.WriteOnce(fd, [0]);
    }
}
