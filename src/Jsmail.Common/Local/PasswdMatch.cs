using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>
/// Which user a local part belongs to, as qmail-getpw decides (interfaces §4.6):
/// the longest prefix that is the whole local part or ends just before a BREAK,
/// shorter than 32 bytes, lowercased, naming a non-root account whose home is
/// its own.
/// </summary>
public static class PasswdMatch
{
    public const byte Break = (byte)'-';
    public const int UserNameLimit = 32;

    /// <summary>qmail-getpw's exit codes (qmail-lspawn's meanings).</summary>
    public const int NoAlias = 116, SystemTrouble = 118, NfsTrouble = 115;

    /// <summary>
    /// qmail-getpw's answer for <paramref name="local"/>, with the calling
    /// thread's credentials (qmailp in qmail); null with <paramref name="failure"/>
    /// one of its exit codes when there is none.
    /// </summary>
    public static UserAssignment? Find(byte[] local, out int failure)
    {
        failure = 0;
        foreach (var n in CandidateLengths(local))
        {
            var name = AsciiCase.ToLower(local.AsSpan(0, n));
            var pw = Libc.GetPasswdBytes(name, out var errno);
            if (pw == null)
            {
                if (errno == Errno.ETXTBSY) { failure = SystemTrouble; return null; }
                continue;
            }
            var p = pw.Value;
            if (p.Uid == 0) continue;
            if (Libc.StatPath(p.Home, out var st) != 0)
            {
                if (ErrorText.IsTemporary(Libc.Errno)) { failure = NfsTrouble; return null; }
                continue;
            }
            if (st.Uid != p.Uid) continue;
            var whole = n == local.Length;
            return new UserAssignment(p.Name, p.Uid, p.Gid, p.Home, whole ? [] : [Break], whole ? [] : local[(n + 1)..]);
        }

        if (Libc.GetPasswdBytes("alias"u8, out _) is not { } alias) { failure = NoAlias; return null; }
        return new UserAssignment(alias.Name, alias.Uid, alias.Gid, alias.Home, [Break], local);
    }

    /// <summary>Candidate lengths, longest first: the prefixes worth a getpwnam.</summary>
    public static IEnumerable<int> CandidateLengths(byte[] local)
    {
        for (var n = local.Length; n >= 0; n--)
        {
            if (n >= UserNameLimit) continue;
            if (n == local.Length || local[n] == Break) yield return n;
        }
    }

    /// <summary>qmail-getpw's answer: six NUL-terminated fields.</summary>
    public static byte[] Format(UserAssignment a) => Format(a.User, a.Uid, a.Gid, a.Home, a.Dash, a.Ext);

    private static byte[] Format(ReadOnlySpan<byte> user, uint uid, uint gid, ReadOnlySpan<byte> home,
        ReadOnlySpan<byte> dash, ReadOnlySpan<byte> ext)
    {
        var o = new List<byte>(user.Length + home.Length + ext.Length + 32);
        void Field(ReadOnlySpan<byte> f) { foreach (var b in f) o.Add(b); o.Add(0); }
        Field(user);
        Field(System.Text.Encoding.ASCII.GetBytes(uid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Field(System.Text.Encoding.ASCII.GetBytes(gid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Field(home);
        Field(dash);
        Field(ext);
        return o.ToArray();
    }
}
