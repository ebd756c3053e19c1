using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Tcpto;

/// <summary>
/// jsmail-tcpto, a drop-in qmail-tcpto (interfaces §6.5): prints the hosts
/// jsmail-remote recently saw time out. Like qmail's it opens the table for
/// writing to take the lock, so only root and the table's owner (qmailr) may
/// run it, and like qmail's its complaints go to stdout without a program
/// name: <c>fatal: unable to open tcpto: access denied</c>, exit 111.
/// </summary>
public static class Program
{
    public static int Main()
    {
        var output = new FdWriter(1);
        if (ChdirLock() is var errno && errno != 0) return Die(output, "fatal: unable to chdir", errno);

        var table = new byte[TcptoTable.Size];
        int n, readErrno;
        using (var fdLock = OwnedFd.Open("tcpto", Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0))
        {
            if (!fdLock.IsOpen) return Die(output, "fatal: unable to open tcpto", Libc.Errno);
            using var fd = OwnedFd.Open("tcpto", Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (!fd.IsOpen) return Die(output, "fatal: unable to open tcpto", Libc.Errno);
            if (Libc.Flock(fdLock.Fd, Libc.LOCK_EX) != 0) return Die(output, "fatal: unable to lock tcpto", Libc.Errno);
            n = Libc.Read(fd.Fd, table);
            readErrno = Libc.Errno;
        }
        if (n < 0) return Die(output, "fatal: unable to read tcpto", readErrno);

        output.Write(TcptoReport.Format(table.AsSpan(0, n), DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        output.Flush();
        return 0;
    }

    /// <summary>0, or the errno of the failed chdir (ENOENT when the program is not in a home's bin/).</summary>
    private static int ChdirLock()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Errno.ENOENT; }
        return Libc.Chdir(home) == 0 && Libc.Chdir("queue/lock") == 0 ? 0 : Libc.Errno;
    }

    private static int Die(FdWriter output, string what, int errno)
    {
        output.Write(Encoding.ASCII.GetBytes($"{what}: {ErrorText.Describe(errno)}\n"));
        output.Flush();
        return 111;
    }
}
