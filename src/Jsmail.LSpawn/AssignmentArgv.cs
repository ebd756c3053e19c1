using Jsmail.Common.Control;

namespace Jsmail.LSpawn;

public static class AssignmentArgv
{
    /// <summary>qmail-local's argv for an assignment (interfaces §4.4).</summary>
    public static byte[][] QmailLocalArgv(this UserAssignment a, byte[] local, byte[] domain, byte[] sender, byte[] defaultDelivery) =>
        ["bin/qmail-local"u8.ToArray(), "--"u8.ToArray(), a.User, a.Home, local, a.Dash, a.Ext, domain, sender, defaultDelivery];
}
