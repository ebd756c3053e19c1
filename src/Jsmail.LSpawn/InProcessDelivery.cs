using Jsmail.Common.Control;
using Jsmail.Common.Local;
using Jsmail.Common.Os;

namespace Jsmail.LSpawn;

/// <summary>
/// Who an in-process delivery is for: a users/cdb assignment, or null for
/// the passwd match qmail-getpw would make (done on the delivery thread).
/// </summary>
public sealed record InProcessRequest(UserAssignment? Assignment, byte[] Local, byte[] Domain, byte[] Sender,
    byte[] DefaultDelivery);

/// <summary>
/// One local delivery made inside jsmail-lspawn, on a dedicated thread that
/// becomes the recipient (<see cref="ThreadCredentials"/>) with its own
/// working directory and umask, and then runs qmail-local's own code
/// (<see cref="LocalDelivery"/>) against the message and report descriptors a
/// delivery child would have as fds 0, 1 and 2. What that code does not do
/// by itself here (a program or a forward in the .qmail, or any trouble
/// before the first instruction) is left to bin/qmail-local, started from
/// the same thread with the same ids and waited for there. The wait status
/// is the one the child would have had, so the reports are the same.
/// </summary>
public sealed class InProcessDelivery
{
    private const int CrashStatus = 6; // killed by SIGABRT: "qmail-local crashed"

    private readonly InProcessRequest _request;
    private readonly LocalChannel.Identity _identity;
    private readonly int _messageFd, _reportFd, _endWrite;
    private readonly Thread _thread;
    private int _status;

    /// <summary>Readable (at end of file) once the delivery has ended.</summary>
    public int EndRead { get; }

    /// <param name="messageFd">the message, duplicated here: the caller keeps its own descriptor</param>
    /// <param name="reportFd">the report pipe, duplicated here</param>
    public InProcessDelivery(InProcessRequest request, LocalChannel.Identity identity, int messageFd, int reportFd)
    {
        _request = request;
        _identity = identity;
        if (!Libc.Pipe(out var endRead, out _endWrite)) throw new SpawnException("delivery thread", Libc.Errno);
        EndRead = endRead;
        _messageFd = Libc.Fcntl(messageFd, Libc.F_DUPFD_CLOEXEC, 10);
        var errno = Libc.Errno; // the failing call's: any later call that succeeds leaves 0
        _reportFd = _messageFd < 0 ? -1 : Libc.Fcntl(reportFd, Libc.F_DUPFD_CLOEXEC, 10);
        if (_messageFd >= 0) errno = Libc.Errno;
        if (_messageFd < 0 || _reportFd < 0)
        {
            foreach (var fd in (ReadOnlySpan<int>)[_messageFd, _reportFd, EndRead, _endWrite]) if (fd >= 0) Libc.Close(fd);
            throw new SpawnException("delivery thread", errno);
        }
        _thread = new Thread(Run, 256 * 1024) { IsBackground = true, Name = "local delivery" };
    }

    /// <summary>Starts the thread; when it cannot start, the descriptors are closed and a <see cref="SpawnException"/> says so.</summary>
    public void Start()
    {
        try { _thread.Start(); }
        catch (Exception e) when (e is ThreadStartException or OutOfMemoryException)
        {
            foreach (var fd in (ReadOnlySpan<int>)[_messageFd, _reportFd, EndRead, _endWrite]) Libc.Close(fd);
            throw new SpawnException("delivery thread", Errno.EAGAIN);
        }
    }

    /// <summary>The wait status, once <see cref="EndRead"/> has said so (or blocking until then).</summary>
    public int Finish()
    {
        _thread.Join();
        return _status;
    }

    public bool HasEnded => !_thread.IsAlive;

    private void Run()
    {
        var status = CrashStatus;
        try { status = Deliver(); }
        catch (OutOfMemoryException) { status = Fail(LocalFailure.Temporary("Out of memory. (#4.3.0)")); }
        catch (Exception) { status = CrashStatus; } // never let one delivery end the spawner
        finally
        {
            Libc.Close(_messageFd);
            Libc.Close(_reportFd);
            _status = status;
            Libc.Close(_endWrite);
        }
    }

    private int Deliver()
    {
        if (ThreadCredentials.SeparateFilesystemContext() != 0) return LspawnExit.SystemTrouble << 8;
        Libc.Umask(0x3F); // 077, as jsmail-local sets it

        var assignment = _request.Assignment;
        if (assignment == null)
        {
            assignment = FindInPasswd(out var failure);
            if (assignment == null) return failure << 8;
        }
        if (BecomeRecipient(assignment) is { } refused) return refused << 8;

        var args = new LocalArgs(true, assignment.User, assignment.Home, _request.Local, assignment.Dash,
            assignment.Ext, _request.Domain, _request.Sender, _request.DefaultDelivery);
        var delivery = new LocalDelivery(args, new MessageFile(_messageFd), new ReportFds(_reportFd, _reportFd))
        {
            FileSync = _identity.FileSync,
        };
        DeliveryPlan plan;
        try { plan = delivery.Prepare(); }
        catch (LocalFailure) { return RunQmailLocal(assignment); }
        if (!plan.WritesFilesOnly) return RunQmailLocal(assignment);
        try { return delivery.Deliver(plan) << 8; }
        catch (LocalFailure f) { return Fail(f); }
    }

    /// <summary>qmail-getpw's decision, made as qmail-getpw's account when this process is root.</summary>
    private UserAssignment? FindInPasswd(out int failure)
    {
        var root = Libc.Geteuid() == 0;
        if (root && ThreadCredentials.Borrow(_identity.GetpwUid, _identity.GetpwGid) != 0)
        {
            failure = LspawnExit.Bug;
            return null;
        }
        UserAssignment? found;
        try
        {
            lock (_identity.PasswdLock) found = PasswdMatch.Find(_request.Local, out failure);
        }
        finally
        {
            // Without root back the thread cannot become the recipient: end it as a bug would.
            if (root && ThreadCredentials.Regain() != 0) found = null;
        }
        if (found == null && failure == 0) failure = LspawnExit.Bug;
        return found;
    }

    /// <summary>
    /// As qmail-lspawn's child: root takes the recipient's ids with its group
    /// as the only one (and refuses root); without root only the invoking user.
    /// </summary>
    private static int? BecomeRecipient(UserAssignment a)
    {
        if (Libc.Geteuid() != 0) return a.Uid == Libc.Getuid() ? null : LspawnExit.Bug;
        if (a.Uid == 0) return LspawnExit.Root;
        return ThreadCredentials.Drop(a.Uid, a.Gid, [a.Gid]) == 0 ? null : LspawnExit.Bug;
    }

    /// <summary>bin/qmail-local as the delivery child would run it, already as the recipient.</summary>
    private int RunQmailLocal(UserAssignment a)
    {
        Libc.Lseek(_messageFd, 0, Libc.SEEK_SET);
        var argv = a.QmailLocalArgv(_request.Local, _request.Domain, _request.Sender, _request.DefaultDelivery);
        int pid;
        try { pid = PosixSpawn.Start("bin/qmail-local", argv, null, [(0, _messageFd), (1, _reportFd), (2, _reportFd)], _identity.Home); }
        catch (SpawnException e) { return (ErrorText.IsTemporary(e.Errno) ? LspawnExit.ExecSoft : LspawnExit.ExecHard) << 8; }
        return Libc.Waitpid(pid, out var status) == pid ? status : CrashStatus;
    }

    private int Fail(LocalFailure f)
    {
        if (f.Message.Length > 0) Libc.WriteAll(_reportFd, System.Text.Encoding.UTF8.GetBytes(f.Message + "\n"));
        return f.ExitCode << 8;
    }
}
