using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.LSpawn;

/// <summary>
/// qmail-lspawn's side of the common spawner: each delivery runs this same
/// executable again as a delivery child (qmail forks one), which resolves the
/// recipient, becomes that user and executes qmail-local. The .NET runtime
/// cannot fork, and a child that has dropped its privileges before exec means
/// qmail-local never runs as root.
/// </summary>
public sealed class LocalChannel(string self, byte[] defaultDelivery, uint getpwUid, uint getpwGid) : ISpawnChannel
{
    public const string ChildMarker = "--jsmail-delivery-child";
    public const int ReportLimit = 3000;

    public int? OutputLimit => ReportLimit;

    public int Start(int messageFd, int reportFd, SpawnCommand command, int at) =>
        Jsmail.Common.Os.Spawn.Start(self,
            [
                "qmail-lspawn"u8.ToArray(), Encoding.ASCII.GetBytes(ChildMarker),
                Encoding.ASCII.GetBytes(getpwUid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Encoding.ASCII.GetBytes(getpwGid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                defaultDelivery, command.Sender, command.Recipient,
            ],
            null, [(0, messageFd), (1, reportFd), (2, reportFd)]);

    public byte[] Report(int waitStatus, ReadOnlySpan<byte> output) => LspawnExit.Report(waitStatus, output);
}
