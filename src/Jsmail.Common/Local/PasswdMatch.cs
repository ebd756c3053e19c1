namespace Jsmail.Getpw;

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
    public static byte[] Format(ReadOnlySpan<byte> user, uint uid, uint gid, ReadOnlySpan<byte> home,
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
