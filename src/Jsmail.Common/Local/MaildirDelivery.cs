using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>
/// Maildir delivery (interfaces §5.10): tmp/&lt;time&gt;.&lt;pid&gt;.&lt;host&gt; written,
/// made durable (<see cref="FileSync"/>) and closed, then linked into new/ and removed from tmp/, so new/
/// never shows a partial message. qmail does this in a forked child; here the
/// same steps run in-process and the child's status codes pick the texts.
/// </summary>
public static class MaildirDelivery
{
    private const int Ok = 0, Temporary = 1, NoChdir = 2, ReadFailed = 4;

    public static void Deliver(byte[] dir, byte[] home, MessageFile message, DeliveryLines lines, FileSync sync)
    {
        var status = Write(dir, message, lines, sync);
        if (Libc.Chdir(home) != 0)
            throw LocalFailure.Temporary($"Unable to switch to {Encoding.UTF8.GetString(home)}: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
        switch (status)
        {
            case Ok: return;
            case NoChdir: throw LocalFailure.Temporary("Unable to chdir to maildir. (#4.2.1)");
            case ReadFailed: throw LocalFailure.Temporary("Unable to read message. (#4.3.0)");
            default: throw LocalFailure.Temporary("Temporary error on maildir delivery. (#4.3.0)");
        }
    }

    private static int Write(byte[] dir, MessageFile message, DeliveryLines lines, FileSync sync)
    {
        if (Libc.Chdir(dir) != 0) return ErrorText.IsTemporary(Libc.Errno) ? Temporary : NoChdir;
        var host = Encoding.Latin1.GetString(Libc.Hostname());
        // qmail's <pid>: the thread's id, which is the pid in jsmail-local (one
        // thread) and keeps the name unique among jsmail-lspawn's delivery threads.
        var pid = Libc.Gettid();
        string name;
        for (var attempt = 0; ; attempt++)
        {
            name = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{pid}.{host}";
            if (Libc.StatPath("tmp/" + name, out _) != 0 && Libc.Errno == Errno.ENOENT) break;
            if (attempt == 2) return Temporary;
            Thread.Sleep(2000);
        }
        var tmp = "tmp/" + name;
        var opening = sync.Opening();
        var fd = Libc.Open(tmp, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4);
        if (fd < 0) return Temporary;
        var writer = new FdWriter(fd);
        writer.Write(lines.RpLine);
        writer.Write(lines.DtLine);
        var read = message.CopyTo(chunk => { writer.Write(chunk); return true; }, out _);
        var ok = read && writer.Flush() && sync.Sync(fd, opening) == 0;
        ok = Libc.Close(fd) == 0 && ok;
        if (ok && Libc.Link(tmp, "new/" + name) == 0)
        {
            Libc.Unlink(tmp);
            return Ok;
        }
        Libc.Unlink(tmp);
        return read ? Temporary : ReadFailed;
    }
}
