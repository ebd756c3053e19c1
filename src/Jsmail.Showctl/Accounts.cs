using Jsmail.Common.Os;

namespace Jsmail.Showctl;

/// <summary>
/// The ids qmail-showctl prints, looked up at run time as notqmail does, in
/// qmail's order: alias, qmaild, qmaill, root (the owner), qmailp, qmailq,
/// qmailr, qmails; groups nofiles, qmail. An account that does not exist (a
/// --single-user home needs none) shows as <c>?</c> where notqmail would stop.
/// </summary>
public static class Accounts
{
    public static readonly string[] Users = ["alias", "qmaild", "qmaill", "root", "qmailp", "qmailq", "qmailr", "qmails"];
    public static readonly string[] Groups = ["nofiles", "qmail"];

    public static string UserIds() => string.Join(", ", Users.Select(u => Libc.GetPasswd(u) is { } p ? p.Uid.ToString() : "?"));

    public static string GroupIds() => string.Join(", ", Groups.Select(g => Libc.GetGroupId(g) is { } id ? id.ToString() : "?"));
}
