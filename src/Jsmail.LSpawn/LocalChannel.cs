using System.Globalization;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.LSpawn;

/// <summary>
/// qmail-lspawn's side of the common spawner. In-process mode (the default):
/// a delivery to a users/cdb or passwd recipient is made by a thread of this
/// process that has become the recipient (<see cref="InProcessDelivery"/>),
/// with qmail-local's own code, starting bin/qmail-local only for what that
/// code leaves to it (programs, forwards, trouble). Otherwise, when users/cdb
/// assigns the recipient to an ordinary user, qmail-local is started from here
/// on a thread that has become that user (<see cref="SpawnAs"/>). Every other
/// delivery (qmail-getpw decides; a trash address; root; trouble reading
/// users/cdb) runs this same executable again as a delivery child, which does
/// what qmail-lspawn's forked child does and reports the same way. Either way
/// nothing is delivered as root.
/// </summary>
public sealed class LocalChannel(string self, string home, byte[] defaultDelivery, uint getpwUid, uint getpwGid,
    bool inProcess = false, FileSync? fileSync = null) : ISpawnChannel
{
    public const string ChildMarker = "--jsmail-delivery-child";
    public const int ReportLimit = 3000;

    /// <summary>
    /// What a delivery thread needs of the spawner: the home, qmail-getpw's
    /// ids, one passwd lookup at a time, and how its files are made durable.
    /// </summary>
    public sealed record Identity(string Home, uint GetpwUid, uint GetpwGid, object PasswdLock, FileSync FileSync);

    private readonly Identity _identity = new(home, getpwUid, getpwGid, new object(), fileSync ?? FileSync.EachFile);
    private readonly Dictionary<int, InProcessDelivery> _inProcess = [];
    private int _lastInProcessId = -1;
    private byte[]? _directStartFailure;

    public int? OutputLimit => ReportLimit;

    public int Start(int messageFd, int reportFd, SpawnCommand command, int at)
    {
        _directStartFailure = null;
        if (inProcess && InProcessRequestFor(command, at) is { } request) return StartInProcess(request, messageFd, reportFd);
        (int, int)[] fds = [(0, messageFd), (1, reportFd), (2, reportFd)];
        return StartQmailLocal(command, at, fds) ?? StartDeliveryChild(command, fds);
    }

    /// <summary>
    /// The in-process delivery for this command, or null when it goes the
    /// per-process way: a trash address, root, users/cdb trouble, or a
    /// bin/qmail-local or bin/qmail-getpw that is not jsmail's (another
    /// program must then decide as it always did).
    /// </summary>
    private InProcessRequest? InProcessRequestFor(SpawnCommand command, int at)
    {
        var local = command.Recipient[..at];
        if (local.Length == 0 || !SameFile("bin/qmail-local", "bin/jsmail-local")) return null;
        var assignment = UsersCdbFile.Lookup(Path.Combine(home, "users/cdb"), local, out var failure);
        if (failure != 0) return null;
        if (assignment == null && !SameFile("bin/qmail-getpw", "bin/jsmail-getpw")) return null;
        if (assignment != null && Route(Libc.Geteuid(), Libc.Getuid(), assignment.Uid, compat: false) == Routes.Child)
            return null;
        return new InProcessRequest(assignment, local, command.Recipient[(at + 1)..], command.Sender, defaultDelivery);
    }

    private int StartInProcess(InProcessRequest request, int messageFd, int reportFd)
    {
        var delivery = new InProcessDelivery(request, _identity, messageFd, reportFd);
        var id = --_lastInProcessId;
        if (id >= -1) id = _lastInProcessId = -2; // wrapped: ids stay negative, never a pid
        delivery.Start();
        _inProcess[id] = delivery;
        return id;
    }

    public int EndFd(int pid) => _inProcess.TryGetValue(pid, out var d) ? d.EndRead : Libc.PidfdOpen(pid);

    public int Wait(int pid, out int status, int options)
    {
        if (!_inProcess.TryGetValue(pid, out var d)) return Libc.Waitpid(pid, out status, options);
        status = 0;
        if ((options & Libc.WNOHANG) != 0 && !d.HasEnded) return 0;
        status = d.Finish();
        _inProcess.Remove(pid);
        return pid;
    }

    private bool SameFile(string a, string b) =>
        Libc.StatPath(Path.Combine(home, a), out var x) == 0 && Libc.StatPath(Path.Combine(home, b), out var y) == 0 &&
        x.Dev == y.Dev && x.Ino == y.Ino;

    /// <summary>
    /// qmail-local started from here when users/cdb assigns the recipient to an
    /// account this process may become; null when the delivery child must decide.
    /// </summary>
    private int? StartQmailLocal(SpawnCommand command, int at, (int, int)[] fds)
    {
        var local = command.Recipient[..at];
        if (local.Length == 0) return null;
        if (UsersCdbFile.Lookup(Path.Combine(home, "users/cdb"), local, out _) is not { } assignment) return null;
        var route = Route(Libc.Geteuid(), Libc.Getuid(), assignment.Uid, Compat.IsQmail);
        if (route == Routes.Child) return null;

        var argv = assignment.QmailLocalArgv(local, command.Recipient[(at + 1)..], command.Sender, defaultDelivery);
        try
        {
            return route == Routes.AsRecipient
                ? SpawnAs.Start(assignment.Uid, assignment.Gid, "bin/qmail-local", argv, fds, home)
                : PosixSpawn.Start("bin/qmail-local", argv, null, fds, home);
        }
        catch (SpawnException e)
        {
            var exit = e is CredentialChangeException ? LspawnExit.Bug
                : ErrorText.IsTemporary(e.Errno) ? LspawnExit.ExecSoft : LspawnExit.ExecHard;
            _directStartFailure = LspawnExit.Report(exit << 8, default);
            throw;
        }
    }

    private int StartDeliveryChild(SpawnCommand command, (int, int)[] fds) =>
        PosixSpawn.Start(self,
            [
                "qmail-lspawn"u8.ToArray(), Encoding.ASCII.GetBytes(ChildMarker),
                Encoding.ASCII.GetBytes(getpwUid.ToString(CultureInfo.InvariantCulture)),
                Encoding.ASCII.GetBytes(getpwGid.ToString(CultureInfo.InvariantCulture)),
                defaultDelivery, command.Sender, command.Recipient,
            ],
            null, fds);

    public enum Routes { Child, AsRecipient, AsInvoker }

    /// <summary>
    /// How a delivery to <paramref name="recipientUid"/> starts. As root, never to
    /// root (the child reports "Not allowed to perform deliveries as root").
    /// Without root (a single-user install) only to the invoking user, as the
    /// child allows; in qmail compatibility the child tries and fails the change
    /// of ids, as qmail-lspawn would.
    /// </summary>
    public static Routes Route(uint euid, uint ruid, uint recipientUid, bool compat) =>
        euid == 0 ? (recipientUid == 0 ? Routes.Child : Routes.AsRecipient)
        : !compat && recipientUid == ruid ? Routes.AsInvoker : Routes.Child;

    /// <summary>
    /// qmail-local could not be started from here: the report the delivery
    /// child gives when it cannot change ids (bug) or exec (soft or hard).
    /// Null when the child itself could not be started: "unable to fork".
    /// </summary>
    public byte[]? StartFailed(int errno) => _directStartFailure;

    public byte[] Report(int waitStatus, ReadOnlySpan<byte> output) => LspawnExit.Report(waitStatus, output);
}
