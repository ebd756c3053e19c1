using Jsmail.Common.Os;

namespace Jsmail.SmtpServer;

/// <summary>
/// Started as root, the server binds its ports and then serves as qmaild (or
/// --user/--group): supplementary groups, gid and uid all changed before the
/// first accept, so the network side never runs as root or as the queue's
/// owner. Started as anyone else, or with --single-user, it serves as the
/// user who started it (a single-user home, whose queue that user owns).
/// </summary>
public static class Privileges
{
    public const string DefaultUser = "qmaild";

    /// <summary>Null when it worked (or there was nothing to do); else why not.</summary>
    public static string? Drop(string? user, string? group, bool singleUser)
    {
        if (singleUser) return null;
        if (Libc.Geteuid() != 0)
            return user != null || group != null ? "--user and --group need the server to be started as root" : null;
        var name = user ?? DefaultUser;
        if (Libc.GetPasswd(name) is not { } pw) return $"unknown user {name}";
        var gid = pw.Gid;
        if (group != null)
        {
            if (Libc.GetGroupId(group) is not { } g) return $"unknown group {group}";
            gid = g;
        }
        if (pw.Uid == 0) return $"refusing to serve as root ({name})";
        // glibc applies each change to every thread of the process (the runtime's too).
        if (Libc.SetgroupsOnly(gid) != 0) return "setgroups: " + ErrorText.Describe(Libc.Errno);
        if (Libc.Setgid(gid) != 0) return "setgid: " + ErrorText.Describe(Libc.Errno);
        if (Libc.Setuid(pw.Uid) != 0) return "setuid: " + ErrorText.Describe(Libc.Errno);
        if (Libc.Getuid() != pw.Uid || Libc.Geteuid() != pw.Uid || Libc.Getegid() != gid)
            return "the credentials did not change";
        return null;
    }
}
