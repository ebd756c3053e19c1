using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.TestQueue;

/// <summary>
/// Queues many messages from one process, by qmail-queue's placement
/// algorithm (interfaces §1.3 steps 4-10): pid file, its inode as the id, link
/// to mess/, the Received line and message, intd/ with u, p, F and T records,
/// the commit link to todo/, and the trigger. What is on disk is what
/// jsmail-queue leaves, so jsmail-todo cannot tell the difference; only the
/// process start per message is saved. With <paramref name="sync"/> false the
/// fsyncs are skipped too (a test queue need not survive a power cut).
/// Run as the queue's owner; the caller's working directory does not matter.
/// </summary>
public sealed class QueueFiller(string queueDir, bool sync = false)
{
    private readonly int _pid = Environment.ProcessId;
    private readonly uint _uid = Libc.Getuid();
    private int _seq;

    /// <summary>Queues one message; returns its id. Throws IOException on any failure.</summary>
    public ulong Add(ReadOnlySpan<byte> message, ReadOnlySpan<byte> sender, IReadOnlyList<byte[]> recipients)
    {
        var id = WriteMess(message);
        var intdPath = Path.Combine(queueDir, QueueLayout.Intd(id));
        WriteFile(intdPath, Envelope(sender, recipients));
        if (Libc.Link(intdPath, Path.Combine(queueDir, QueueLayout.Todo(id))) != 0) throw Failure("link", intdPath);
        return id;
    }

    /// <summary>
    /// Queues one message as jsmail-todo leaves it once preprocessed, for remote
    /// delivery to <paramref name="recipients"/>: mess/, info/ (the sender) and
    /// remote/ (a T record each), no todo/. For a queue filled while
    /// jsmail-send is stopped; returns its id.
    /// </summary>
    public ulong AddPreprocessed(ReadOnlySpan<byte> message, ReadOnlySpan<byte> sender, IReadOnlyList<byte[]> recipients)
    {
        var id = WriteMess(message);
        WriteFile(Path.Combine(queueDir, QueueLayout.Info(id)), [(byte)'F', .. sender, 0]);
        var remote = new List<byte>();
        foreach (var r in recipients) remote.AddRange([(byte)'T', .. r, 0]);
        WriteFile(Path.Combine(queueDir, QueueLayout.Remote(id)), remote.ToArray());
        return id;
    }

    /// <summary>mess/ by the placement algorithm: a pid file, its inode as the id, linked to mess/, the Received line and message.</summary>
    private ulong WriteMess(ReadOnlySpan<byte> message)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var pidPath = Path.Combine(queueDir, $"pid/{_pid}.{now}.{++_seq}");
        var mess = Libc.Open(pidPath, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        if (mess < 0) throw Failure("create", pidPath);
        try
        {
            if (Libc.Fstat(mess, out var st) != 0) throw Failure("fstat", pidPath);
            var id = st.Ino;
            if (Libc.Link(pidPath, Path.Combine(queueDir, QueueLayout.Mess(id))) != 0) throw Failure("link", pidPath);
            if (Libc.Unlink(pidPath) != 0) throw Failure("unlink", pidPath);
            if (!Libc.WriteAll(mess, QueueReceived.Line(_pid, "by uid " + _uid, now)) || !Libc.WriteAll(mess, message) ||
                (sync && Libc.Fsync(mess) != 0))
                throw Failure("write", QueueLayout.Mess(id));
            return id;
        }
        finally { Libc.Close(mess); }
    }

    private void WriteFile(string path, ReadOnlySpan<byte> content)
    {
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        if (fd < 0) throw Failure("create", path);
        try
        {
            if (!Libc.WriteAll(fd, content) || (sync && Libc.Fsync(fd) != 0)) throw Failure("write", path);
        }
        finally { Libc.Close(fd); }
    }

    /// <summary>One byte into lock/trigger, as qmail-queue writes after each commit (no reader: ignored).</summary>
    public void PullTrigger()
    {
        var fd = Libc.Open(Path.Combine(queueDir, QueueLayout.Trigger), Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return;
        Libc.WriteAll(fd, [0]);
        Libc.Close(fd);
    }

    private byte[] Envelope(ReadOnlySpan<byte> sender, IReadOnlyList<byte[]> recipients)
    {
        var o = new List<byte>(64 + sender.Length + recipients.Sum(r => r.Length + 2));
        o.AddRange(System.Text.Encoding.ASCII.GetBytes($"u{_uid}\0p{_pid}\0F"));
        o.AddRange(sender);
        o.Add(0);
        foreach (var r in recipients)
        {
            o.Add((byte)'T');
            o.AddRange(r);
            o.Add(0);
        }
        return o.ToArray();
    }

    private static IOException Failure(string what, string path) =>
        new($"cannot {what} {path}: {ErrorText.Describe(Libc.Errno)}");
}
