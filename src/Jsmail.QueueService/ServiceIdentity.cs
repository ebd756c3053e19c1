using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// Who the service runs as and whom it serves. It runs as the queue's owner
/// (<see cref="QueueOwner"/>: qmailq in a privileged install, the installing
/// user in a single-user one): started as root it drops to that uid, with
/// that account's group as its only group, before it opens anything; started
/// as anyone else it must already be the owner. It serves root, qmaild (the
/// network side) and its own uid (a single-user home runs everything as one user).
/// </summary>
public static class ServiceIdentity
{
    /// <summary>Null when it is the queue's owner now; else why it cannot be.</summary>
    public static string? BecomeQueueOwner(string home)
    {
        if (QueueOwner.Of(home) is not { } owner) return $"cannot stat {home}/queue/mess";
        var euid = Libc.Geteuid();
        if (euid == owner) return null;
        if (euid != 0) return $"running as uid {euid}, but the queue belongs to uid {owner}: start me as root or as that user";
        if (Libc.GetPasswd(owner) is not { } account) return $"the queue's owner, uid {owner}, has no account";
        if (Libc.SetgroupsOnly(account.Gid) != 0 || Libc.Setgid(account.Gid) != 0 || Libc.Setuid(owner) != 0)
            return $"cannot become {account.Name} (uid {owner}, gid {account.Gid})";
        return null;
    }

    public static IReadOnlySet<uint> AllowedClients()
    {
        var allowed = new HashSet<uint> { 0, Libc.Geteuid() };
        if (Libc.GetPasswd("qmaild") is { } qmaild) allowed.Add(qmaild.Uid);
        return allowed;
    }
}
