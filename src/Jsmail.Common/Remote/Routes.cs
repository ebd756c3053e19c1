using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Common.Remote;

/// <summary>Where smtproutes sends a domain: a relay (host and port), or null for MX lookup.</summary>
public sealed record Route(string Relay, int Port);

public static class Routes
{
    public const int SmtpPort = 25;

    /// <summary>
    /// smtproutes: the whole host, each .suffix (longest first), then the empty
    /// key; the first key present wins; an empty value means "use MX".
    /// "relay:port" sets the port.
    /// </summary>
    public static Route? Find(ControlMap smtproutes, ReadOnlySpan<byte> host, bool compat = false)
    {
        if (!smtproutes.TryGetByDomain(host, out var value) || value.Length == 0) return null;
        var text = value.AsSpan();
        var end = RelayLength(text, compat);
        var port = end < text.Length ? ParsePort(text[(end + 1)..]) : SmtpPort;
        return end == 0 ? null : new Route(Encoding.Latin1.GetString(text[..end]), port);
    }

    /// <summary>
    /// The length of the relay that starts "relay:more" (smtproutes' value,
    /// remoteauth's line): up to the first ':' as qmail reads it, except that a
    /// relay in brackets followed by ':' or the end ("[IPv6:2001:db8::1]:2525")
    /// is taken whole, since an IPv6 literal holds colons. qmail itself (compat
    /// mode) cuts even that at its first colon, as it does a bare IPv6 address.
    /// </summary>
    public static int RelayLength(ReadOnlySpan<byte> text, bool compat)
    {
        if (!compat && text.Length > 0 && text[0] == (byte)'[')
        {
            var close = text.IndexOf((byte)']');
            if (close > 0 && (close + 1 == text.Length || text[close + 1] == (byte)':')) return close + 1;
        }
        var colon = text.IndexOf((byte)':');
        return colon < 0 ? text.Length : colon;
    }

    /// <summary>qmail scans leading digits; no digits means port 0, which we treat as the default.</summary>
    private static int ParsePort(ReadOnlySpan<byte> s)
    {
        var n = 0;
        foreach (var c in s)
        {
            if (c is < (byte)'0' or > (byte)'9') break;
            n = n * 10 + (c - '0');
            if (n > 65535) return SmtpPort;
        }
        return n == 0 ? SmtpPort : n;
    }
}
