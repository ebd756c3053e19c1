using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.RSpawn;

/// <summary>
/// How qmail-rspawn delivers (§6.1): $QMAILREMOTE if set, else qmail-remote,
/// found on PATH, run as <c>program domain sender recipient...</c> with the message
/// on fd 0 and the report pipe on fds 1 and 2; with <paramref name="parameters"/>
/// (not under JSMAIL_COMPAT=qmail) its environment carries the delivery's ESMTP parameters.
/// Every recipient of a grouped command (docs/spawn-protocol.md) goes to one
/// run, as qmail-remote takes them, and gets its own report.
/// </summary>
internal sealed class RemoteChannel(string program, DeliveryEnvironment? parameters) : ISpawnChannel
{
    public int? OutputLimit => null;

    public int MaxRecipients => GroupedDelivery.MaxRecipients;

    public int Start(int messageFd, int reportFd, SpawnCommand command, int at)
    {
        var domain = command.Recipient[(at + 1)..];
        var path = Exec.FindOnPath(program) ?? program;
        return PosixSpawn.Start(path, [Encoding.UTF8.GetBytes(program), domain, command.Sender, .. command.Recipients],
            parameters?.For(messageFd, command),
            [(0, messageFd), (1, reportFd), (2, reportFd)]);
    }

    public byte[] Report(int waitStatus, ReadOnlySpan<byte> output) => RemoteReport.Build(waitStatus, output);

    public byte[][] Reports(int waitStatus, ReadOnlySpan<byte> output, int recipients) =>
        recipients == 1 ? [RemoteReport.Build(waitStatus, output)] : RemoteReport.BuildEach(waitStatus, output, recipients);

    /// <summary>
    /// exec failed: qmail's child exits 111 for a temporary errno, else 100. An
    /// errno of 0 (the cause was lost on the way) is temporary: a message is
    /// never bounced for a failure nobody can name.
    /// </summary>
    public byte[] StartFailed(int errno) => Report(errno == 0 || ErrorText.IsTemporary(errno) ? 111 << 8 : 100 << 8, default);

}
