using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Start;

/// <summary>
/// jsmail-start, qmail-start of the ext_todo design (interfaces §3, §2.16):
/// <c>jsmail-start [defaultdelivery [logger arg ...]]</c>. Starts the logger,
/// qmail-lspawn, qmail-rspawn, two qmail-clean, qmail-todo, then becomes
/// qmail-send, each program found by PATH (then the home's bin/) and run as
/// its account. Prints nothing; any failure is exit 111.
/// </summary>
public static class Program
{
    /// <summary>Set on the re-executed jsmail-start that drops to an account and execs a daemon.</summary>
    internal const string AsVariable = "JSMAIL_START_AS";

    public static int Main(string[] args)
    {
        try
        {
            if (Libc.GetenvText(AsVariable) is { } who) return Launcher.ExecAs(who, args);
            return Start(args);
        }
        catch (Exception) { return 111; }
    }

    private static int Start(string[] args)
    {
        var home = QmailHome.Current;
        if (Libc.Chdir("/") != 0) return 111;
        Libc.Umask(0x3F);
        var accounts = Accounts.Resolve(home);
        if (accounts.Send is { } s && Libc.Setgroups(s.Groups) != 0) return 111;
        if (accounts.Send is { } s2 && Libc.Setregid(s2.Gid, s2.Gid) != 0) return 111;

        var defaultDelivery = args.Length > 0 ? args[0] : "./Mailbox";
        var launcher = new Launcher(home);

        // the log: our stdout, or the logger's pipe
        var log = Libc.Fcntl(1, Libc.F_DUPFD_CLOEXEC, 10);
        if (log < 0) return 111;
        if (args.Length > 1)
        {
            if (!Libc.Pipe(out var logRead, out var logWrite)) return 111;
            launcher.Start(args[1], args[1..], accounts.Logger, [(0, logRead), (1, log)]);
            Libc.Close(logRead);
            Libc.Close(log);
            log = logWrite;
        }
        // qmail-start leaves the daemons fds 2-6 closed: ours must not leak into them
        for (var fd = 0; fd <= 6; fd++) Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);

        int[] p = new int[16];
        for (var i = 0; i < 8; i++)
            if (!Libc.Pipe(out p[2 * i], out p[2 * i + 1])) return 111;
        // pipe i: read end p[2i], write end p[2i+1]
        // 0 send→lspawn, 1 lspawn→send, 2 send→rspawn, 3 rspawn→send, 4 send→clean, 5 clean→send,
        // 6 send→todo, 7 todo→send; the todo's own clean needs two more
        if (!Libc.Pipe(out var todoCleanReqR, out var todoCleanReqW) || !Libc.Pipe(out var todoCleanRepR, out var todoCleanRepW)) return 111;

        launcher.Start("qmail-lspawn", ["qmail-lspawn", defaultDelivery], accounts.LSpawn, [(0, p[0]), (1, p[3])]);
        // The remote spawner may group recipients when its reader will be jsmail-send (docs/spawn-protocol.md).
        var offer = !Compat.IsQmail && Launcher.IsJsmail(launcher.Find("qmail-send"))
            ? $"{GroupedDelivery.OfferVariable}={GroupedDelivery.OfferValue}" : null;
        launcher.Start("qmail-rspawn", ["qmail-rspawn"], accounts.RSpawn, [(0, p[4]), (1, p[7])], offer);
        launcher.Start("qmail-clean", ["qmail-clean"], accounts.Clean, [(0, p[8]), (1, p[11])]);
        launcher.Start("qmail-clean", ["qmail-clean"], accounts.Clean, [(0, todoCleanReqR), (1, todoCleanRepW)]);
        launcher.Start("qmail-todo", ["qmail-todo"], accounts.Send,
            [(0, p[12]), (1, p[15]), (2, todoCleanReqW), (3, todoCleanRepR)]);

        // become qmail-send: fd 0 log, 1/2 lspawn, 3/4 rspawn, 5/6 clean, 7/8 todo
        (int Child, int Parent)[] mine = [(0, log), (1, p[1]), (2, p[2]), (3, p[5]), (4, p[6]), (5, p[9]), (6, p[10]), (7, p[13]), (8, p[14])];
        foreach (var (child, parent) in mine)
            if (Libc.Dup2(parent, child) != child) return 111;
        var env = Libc.EnvironmentEntries();
        if (accounts.Send is { } sendAs && !Accounts.Become(sendAs)) return 111;
        Launcher.Exec(launcher.Find("qmail-send"), ["qmail-send"], env);
        return 111;
    }
}
