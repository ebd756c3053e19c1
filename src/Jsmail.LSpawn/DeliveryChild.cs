using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.LSpawn;

/// <summary>
/// The per-delivery child (qmail-lspawn's forked child, interfaces §4.3, §4.4):
/// fd 0 the message, fds 1 and 2 the report pipe. Resolves the local part
/// through users/cdb or qmail-getpw, becomes the recipient and executes
/// qmail-local; its exit code, when it gets that far, is qmail-lspawn's.
/// </summary>
public static class DeliveryChild
{
    /// <param name="args">getpw uid, getpw gid, defaultdelivery, sender, recipient</param>
    public static int Run(string home, byte[][] args)
    {
        if (args.Length != 5) return LspawnExit.Bug;
        if (!uint.TryParse(args[0], out var getpwUid) || !uint.TryParse(args[1], out var getpwGid)) return LspawnExit.Bug;
        byte[] defaultDelivery = args[2], sender = args[3], recipient = args[4];
        var at = recipient.AsSpan().LastIndexOf((byte)'@');
        if (at < 0) return LspawnExit.Bug;
        var local = recipient[..at];
        var domain = recipient[(at + 1)..];
        if (local.Length == 0) return 0; // @host: a trash address, reported K with no text

        if (Libc.Chdir(home) != 0) return LspawnExit.Bug;
        var (assignment, failure) = Resolve(local, getpwUid, getpwGid);
        if (assignment == null) return failure;

        var argv = assignment.QmailLocalArgv(local, domain, sender, defaultDelivery);
        if (BecomeRecipient(assignment.Uid, assignment.Gid) is { } refused) return refused;
        Exec.Replace("bin/qmail-local", argv, null);
        return ErrorText.IsTemporary(Libc.Errno) ? LspawnExit.ExecSoft : LspawnExit.ExecHard;
    }

    private static (UserAssignment?, int) Resolve(byte[] local, uint getpwUid, uint getpwGid)
    {
        var found = UsersCdbFile.Lookup("users/cdb", local, out var failure);
        if (found != null || failure != 0) return (found, failure);
        return RunGetpw(local, getpwUid, getpwGid);
    }

    /// <summary>
    /// bin/qmail-getpw as qmailp with the single group nofiles. As root the ids
    /// are changed only for the spawn (the saved uid stays 0 and exec clears it
    /// in the child), then taken back.
    /// </summary>
    private static (UserAssignment?, int) RunGetpw(byte[] local, uint uid, uint gid)
    {
        if (!Libc.Pipe(out var readEnd, out var writeEnd)) return (null, LspawnExit.SystemTrouble);
        var root = Libc.Geteuid() == 0;
        int pid;
        try
        {
            if (root && (Libc.SetgroupsOnly(gid) != 0 || Libc.Setresgid(gid, gid, uint.MaxValue) != 0 ||
                         Libc.Setresuid(uid, uid, uint.MaxValue) != 0))
                return (null, LspawnExit.Bug);
            try { pid = PosixSpawn.Start("bin/qmail-getpw", ["bin/qmail-getpw"u8.ToArray(), local], null, [(0, 0), (1, writeEnd), (2, 2)]); }
            catch (SpawnException) { return (null, LspawnExit.Getpw); }
        }
        finally
        {
            Libc.Close(writeEnd);
            if (root && (Libc.Setresuid(0, 0, 0) != 0 || Libc.Setresgid(0, 0, 0) != 0)) Libc.Exit(LspawnExit.Bug);
        }

        var output = new List<byte>();
        var buf = new byte[4096];
        using (var reader = new OwnedFd(readEnd))
            while (true)
            {
                var n = Libc.Read(reader.Fd, buf);
                if (n <= 0) break;
                output.AddRange(buf.AsSpan(0, n));
            }
        if (Libc.Waitpid(pid, out var status) != pid || !Libc.Exited(status)) return (null, LspawnExit.SystemTrouble);
        if (Libc.ExitCode(status) != 0) return (null, Libc.ExitCode(status));
        var a = UserAssignment.FromGetpw(output.ToArray());
        return a == null ? (null, LspawnExit.Bug) : (a, 0);
    }

    /// <summary>
    /// setgroups to just the recipient's group, setgid, setuid: no supplementary
    /// groups survive. Without root (the single-user install) the delivery runs
    /// as the invoking user, which must then be the recipient.
    /// </summary>
    private static int? BecomeRecipient(uint uid, uint gid)
    {
        if (Libc.Geteuid() != 0 && !Compat.IsQmail)
            return uid == Libc.Getuid() ? null : LspawnExit.Bug;
        if (Libc.SetgroupsOnly(gid) != 0 || Libc.Setgid(gid) != 0 || Libc.Setuid(uid) != 0) return LspawnExit.Bug;
        if (Libc.Getuid() == 0 || Libc.Geteuid() == 0) return LspawnExit.Root;
        return null;
    }
}
