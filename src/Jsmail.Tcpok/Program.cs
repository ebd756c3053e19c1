using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Tcpok;

/// <summary>
/// jsmail-tcpok, a drop-in qmail-tcpok (interfaces §6.5): forgets every
/// remembered timeout by overwriting queue/lock/tcpto with 1024 NUL bytes under
/// its lock, so jsmail-remote tries every host again at once. Opening the table
/// for writing is the permission check, as in qmail: root or its owner
/// (qmailr) only. Errors: <c>qmail-tcpok: fatal: ...</c> on stderr, exit 111.
/// </summary>
public static class Program
{
    public static int Main()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Fatal("unable to chdir to home directory: ", Errno.ENOENT); }
        if (Libc.Chdir(home) != 0) return Fatal($"unable to chdir to {home}: ", Libc.Errno);
        if (Libc.Chdir("queue/lock") != 0) return Fatal($"unable to chdir to {home}/queue/lock: ", Libc.Errno);

        var fd = Libc.Open("tcpto", Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return Fatal($"unable to write {home}/queue/lock/tcpto: ", Libc.Errno);
        if (Libc.Flock(fd, Libc.LOCK_EX) != 0) return Fatal($"unable to lock {home}/queue/lock/tcpto: ", Libc.Errno);
        if (!Libc.WriteAll(fd, new byte[TcptoTable.Size])) return Fatal($"unable to clear {home}/queue/lock/tcpto: ", Libc.Errno);
        return 0;
    }

    private static int Fatal(string what, int errno)
    {
        var text = Encoding.UTF8.GetBytes($"qmail-tcpok: fatal: {what}{ErrorText.Describe(errno)}\n");
        Libc.WriteAll(2, text);
        return 111;
    }
}
