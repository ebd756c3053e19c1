using System.Globalization;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.LSpawn;

/// <summary>
/// qmail-lspawn's side of the common spawner. When users/cdb assigns the
/// recipient to an ordinary user, qmail-local is started from here on a thread
/// that has become that user (<see cref="SpawnAs"/>). Every other delivery (no
/// users/cdb or no entry in it, so qmail-getpw decides; a trash address; root;
/// trouble reading users/cdb) runs this same executable again as a delivery
/// child, which does what qmail-lspawn's forked child does and reports the
/// same way. Either way qmail-local never runs as root.
/// </summary>
public sealed class LocalChannel(string self, string home, byte[] defaultDelivery, uint getpwUid, uint getpwGid)
    : ISpawnChannel
{
    public const string ChildMarker = "--jsmail-delivery-child";
    public const int ReportLimit = 3000;

    private byte[]? _directStartFailure;

    public int? OutputLimit => ReportLimit;

    public int Start(int messageFd, int reportFd, SpawnCommand command, int at)
    {
        _directStartFailure = null;
        (int, int)[] fds = [(0, messageFd), (1, reportFd), (2, reportFd)];
        return StartQmailLocal(command, at, fds) ?? StartDeliveryChild(command, fds);
    }

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
