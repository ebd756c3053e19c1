using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Remote;

/// <summary>Where smtproutes sends a domain: a relay (host and port), or null for MX lookup.</summary>
internal sealed record Route(string Relay, int Port);

internal static class Routes
{
    public const int SmtpPort = 25;

    /// <summary>
    /// smtproutes: the whole host, each .suffix (longest first), then the empty
    /// key; the first key present wins; an empty value means "use MX".
    /// "relay:port" sets the port.
    /// </summary>
    public static Route? Find(ControlMap smtproutes, ReadOnlySpan<byte> host)
    {
        if (!smtproutes.TryGetByDomain(host, out var value) || value.Length == 0) return null;
        var text = Encoding.Latin1.GetString(value);
        var port = SmtpPort;
        var colon = text.IndexOf(':');
        if (colon >= 0)
        {
            port = ParsePort(text[(colon + 1)..]);
            text = text[..colon];
        }
        return text.Length == 0 ? null : new Route(text, port);
    }

    /// <summary>qmail scans leading digits; no digits means port 0, which we treat as the default.</summary>
    private static int ParsePort(string s)
    {
        var n = 0;
        foreach (var c in s)
        {
            if (c is < '0' or > '9') break;
            n = n * 10 + (c - '0');
            if (n > 65535) return SmtpPort;
        }
        return n == 0 ? SmtpPort : n;
    }
}
