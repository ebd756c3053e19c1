using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Start;

/// <summary>Who a daemon runs as: uid, primary gid and the supplementary groups.</summary>
public readonly record struct Identity(uint Uid, uint Gid, uint[] Groups)
{
    public string Encode() => $"{Uid}:{Gid}:{string.Join(',', Groups)}";

    public static Identity Decode(string s)
    {
        var p = s.Split(':');
        return new Identity(uint.Parse(p[0]), uint.Parse(p[1]),
            p[2].Length == 0 ? [] : p[2].Split(',').Select(uint.Parse).ToArray());
    }
}

/// <summary>
/// The identities of qmail-start's children (interfaces §3.2). Single-user
/// mode, where every child simply stays the invoking user, applies when
/// jsmail-start is not run by root, when any of the qmail accounts is missing,
/// or when the home's queue is not qmailq's (QueueOwner: a home installed with
/// install.sh --single-user, even by root: its queue is writable by its owner
/// only, so the qmail accounts could not work in it).
/// </summary>
public sealed record Accounts(Identity? LSpawn, Identity? RSpawn, Identity? Clean, Identity? Send, Identity? Logger)
{
    public bool SingleUser => Send == null;

    public static Accounts Resolve(string home)
    {
        if (Libc.Getuid() != 0) return SingleUserAccounts;
        var qmail = Libc.GetGroupId("qmail");
        var nofiles = Libc.GetGroupId("nofiles");
        var l = Libc.GetPasswd("qmaill");
        var r = Libc.GetPasswd("qmailr");
        var q = Libc.GetPasswd("qmailq");
        var s = Libc.GetPasswd("qmails");
        if (qmail is not { } g || nofiles is not { } nf || l == null || r == null || q == null || s == null)
            return SingleUserAccounts;
        if (!QueueOwner.IsQmailq(home)) return SingleUserAccounts;
        return new Accounts(new Identity(0, g, [g]), new Identity(r.Value.Uid, g, [g]), new Identity(q.Value.Uid, g, [g]),
            new Identity(s.Value.Uid, g, [g]), new Identity(l.Value.Uid, nf, [nf]));
    }

    private static readonly Accounts SingleUserAccounts = new(null, null, null, null, null);

    /// <summary>Becomes <paramref name="who"/>: groups, then gid, then uid. False on any failure.</summary>
    public static bool Become(Identity who) =>
        Libc.Setgroups(who.Groups) == 0 && Libc.Setregid(who.Gid, who.Gid) == 0 && Libc.Setreuid(who.Uid, who.Uid) == 0;
}
