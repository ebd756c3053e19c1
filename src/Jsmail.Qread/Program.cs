using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Qread;

/// <summary>
/// jsmail-qread, a drop-in qmail-qread (also what <c>sendmail -bp</c> and
/// <c>mailq</c> run): lists the preprocessed messages of the queue in the order
/// of queue/info/0..22, each with its recipients. Messages still in todo/ have
/// no info file yet and are not listed, as in qmail. Like qmail-qread all its
/// text goes to stdout, complaints without a program name: a message that
/// cannot be read gives <c>warning: trouble with #&lt;id&gt;: &lt;error&gt;</c> and
/// the listing goes on; a directory that cannot be opened ends it with
/// <c>fatal: unable to opendir info/&lt;n&gt;: &lt;error&gt;</c>, exit 111.
/// It reads queue/info, which only qmails and root may: run it as root.
/// </summary>
public static class Program
{
    public static int Main()
    {
        var output = new FdWriter(1);
        var chdirErrno = ChdirQueue();
        if (chdirErrno != 0) return Die(output, $"fatal: unable to chdir: {ErrorText.Describe(chdirErrno)}\n");

        for (var split = 0; split < QueueLayout.Split; split++)
        {
            var dir = $"info/{split}";
            List<string> names;
            try { names = Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Die(output, $"fatal: unable to opendir {dir}: {ErrorText.Describe(e)}\n");
            }
            foreach (var name in names)
                if (IsId(name, out var id)) Show(output, id);
        }
        output.Flush();
        return 0;
    }

    private static void Show(FdWriter output, ulong id)
    {
        if (Libc.StatPath(QueueLayout.Mess(id), out var mess) != 0) { Trouble(output, id, Libc.Errno); return; }
        var bouncing = Libc.StatPath(QueueLayout.Bounce(id), out _) == 0;
        if (ReadFile(QueueLayout.Info(id), out var info, out var birth) is var errno && errno != 0)
        {
            Trouble(output, id, errno);
            return;
        }
        output.Write(QreadReport.MessageLine(birth, id, mess.Size, info, bouncing));
        foreach (var remote in new[] { false, true })
        {
            errno = ReadFile(remote ? QueueLayout.Remote(id) : QueueLayout.Local(id), out var records, out _);
            if (errno == 0) output.Write(QreadReport.RecipientLines(records, remote));
            else if (errno != Errno.ENOENT) Trouble(output, id, errno);
        }
    }

    /// <summary>0 and the file's bytes and mtime, or the errno of what failed.</summary>
    private static int ReadFile(string path, out byte[] content, out long mtime)
    {
        content = [];
        mtime = 0;
        using var file = OwnedFd.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (!file.IsOpen) return Libc.Errno;
        if (Libc.Fstat(file.Fd, out var st) != 0) return Libc.Errno;
        mtime = st.MTimeSec;
        if (FdRead.AllOrNull(file.Fd) is not { } bytes) return Libc.Errno;
        content = bytes;
        return 0;
    }

    /// <summary>qmail's scan_ulong test: the whole name is decimal digits.</summary>
    private static bool IsId(string name, out ulong id)
    {
        id = 0;
        return name.Length > 0 && name.All(char.IsAsciiDigit) && ulong.TryParse(name, out id);
    }

    private static void Trouble(FdWriter output, ulong id, int errno) =>
        output.Write(Encoding.ASCII.GetBytes($"warning: trouble with #{id}: {ErrorText.Describe(errno)}\n"));

    private static int ChdirQueue()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Errno.ENOENT; }
        return Libc.Chdir(home) == 0 && Libc.Chdir("queue") == 0 ? 0 : Libc.Errno;
    }

    private static int Die(FdWriter output, string text)
    {
        output.Write(Encoding.ASCII.GetBytes(text));
        output.Flush();
        return 111;
    }
}
