using Jsmail.Common.Message;

namespace Jsmail.Common.Local;

/// <summary>The header lines and environment qmail-local derives from its arguments (interfaces §5.3).</summary>
public sealed class DeliveryLines
{
    public byte[] Recipient { get; }
    public byte[] DtLine { get; }
    public byte[] RpLine { get; }
    public byte[] UfLine { get; }

    /// <param name="utf8">
    /// RFC 6532: a sender whose local part is UTF-8 goes into Return-Path (and
    /// RPLINE) as it came, <c>&lt;jörg@x&gt;</c>; qmail quotes every 8-bit local
    /// part (<c>&lt;"jörg"@x&gt;</c>), which is still what JSMAIL_COMPAT=qmail gets.
    /// </param>
    public DeliveryLines(LocalArgs a, long now, bool utf8 = false)
    {
        Recipient = [.. a.Local, (byte)'@', .. a.Domain];
        DtLine = [.. NoLf([.. "Delivered-To: "u8, .. Recipient]), (byte)'\n'];
        RpLine = [.. NoLf([.. "Return-Path: <"u8, .. AddressQuoting.Quote(a.Sender, utf8), (byte)'>']), (byte)'\n'];
        var from = a.Sender.Length == 0 ? "MAILER-DAEMON"u8.ToArray() : a.Sender.ToArray();
        for (var i = 0; i < from.Length; i++) if (from[i] is (byte)' ' or (byte)'\t' or (byte)'\n') from[i] = (byte)'-';
        UfLine = [.. "From "u8, .. from, (byte)' ', .. Rfc822Date.FormatMboxDate(now), (byte)'\n'];
    }

    /// <summary>The variables set for programs, in qmail's order; DEFAULT and NEWSENDER are added later.</summary>
    public List<(string Name, byte[] Value)> Environment(LocalArgs a) =>
    [
        ("HOST", a.Domain), ("HOME", a.Home), ("USER", a.User), ("LOCAL", a.Local), ("RECIPIENT", Recipient),
        ("DTLINE", DtLine), ("SENDER", a.Sender), ("RPLINE", RpLine), ("UFLINE", UfLine), ("EXT", a.Ext),
        ("EXT2", After(a.Ext, 1)), ("EXT3", After(a.Ext, 2)), ("EXT4", After(a.Ext, 3)),
        ("HOST2", Before(a.Domain, 1)), ("HOST3", Before(a.Domain, 2)), ("HOST4", Before(a.Domain, 3)),
    ];

    /// <summary>ext after its n-th '-' (always a hyphen), or empty.</summary>
    public static byte[] After(ReadOnlySpan<byte> ext, int n)
    {
        for (var i = 0; i < ext.Length; i++)
            if (ext[i] == (byte)'-' && --n == 0) return ext[(i + 1)..].ToArray();
        return [];
    }

    /// <summary>
    /// host cut n times at its last '.'; a cut with no '.' left keeps what the cut before
    /// left, so "d.example" gives "d" at every level from 1 on (qmail-local's HOST2..HOST4).
    /// </summary>
    public static byte[] Before(ReadOnlySpan<byte> host, int n)
    {
        for (; n > 0; n--)
        {
            var dot = host.LastIndexOf((byte)'.');
            if (dot < 0) break;
            host = host[..dot];
        }
        return host.ToArray();
    }

    private static byte[] NoLf(byte[] s)
    {
        for (var i = 0; i < s.Length; i++) if (s[i] == (byte)'\n') s[i] = (byte)'_';
        return s;
    }

    /// <summary>
    /// An environment block: <paramref name="inherited"/> ("NAME=value" entries) with
    /// every name in <paramref name="set"/> replaced and every name in
    /// <paramref name="unset"/> removed.
    /// </summary>
    public static List<byte[]> Merge(IEnumerable<byte[]> inherited, IReadOnlyList<(string Name, byte[] Value)> set,
        IEnumerable<string> unset)
    {
        var drop = new HashSet<string>(set.Select(s => s.Name).Concat(unset), StringComparer.Ordinal);
        var o = new List<byte[]>();
        foreach (var e in inherited)
        {
            var eq = e.AsSpan().IndexOf((byte)'=');
            var name = System.Text.Encoding.Latin1.GetString(eq < 0 ? e : e.AsSpan(0, eq));
            if (!drop.Contains(name)) o.Add(e);
        }
        foreach (var (n, v) in set) o.Add([.. System.Text.Encoding.ASCII.GetBytes(n), (byte)'=', .. v]);
        return o;
    }
}
