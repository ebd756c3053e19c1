using System.Globalization;
using System.Net;

namespace Jsmail.SmtpServer;

/// <summary>What a listening port is for.</summary>
public enum ListenRole
{
    /// <summary>Relay and final delivery (port 25): the session as tcpserver would run it.</summary>
    Smtp,
    /// <summary>Message submission (RFC 6409, port 587): SUBMISSION=1 in the session, AUTH before MAIL.</summary>
    Submission,
    /// <summary>Submission over implicit TLS (RFC 8314, port 465): the handshake comes before the greeting.</summary>
    Smtps,
}

/// <summary>
/// One <c>--listen</c> value: <c>IP:PORT</c> or <c>[IPv6]:PORT</c>, optionally
/// followed by <c>/smtp</c>, <c>/submission</c> or <c>/smtps</c> (default smtp).
/// </summary>
public sealed record ListenAddress(IPAddress Ip, int Port, ListenRole Role)
{
    public IPEndPoint EndPoint => new(Ip, Port);

    public static bool TryParse(string text, out ListenAddress? address, out string? error)
    {
        address = null;
        var role = ListenRole.Smtp;
        var slash = text.LastIndexOf('/');
        if (slash >= 0)
        {
            if (!TryRole(text[(slash + 1)..], out role))
            {
                error = $"unknown role '{text[(slash + 1)..]}' in '{text}' (smtp, submission or smtps)";
                return false;
            }
            text = text[..slash];
        }
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not [IPv6]:PORT";
                return false;
            }
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon)
            {
                error = $"'{text}' is not IP:PORT (write an IPv6 address in brackets: [::1]:25)";
                return false;
            }
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (!IPAddress.TryParse(host, out var ip))
        {
            error = $"'{host}' is not an IP address";
            return false;
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        {
            error = $"'{port}' is not a port number";
            return false;
        }
        error = null;
        address = new ListenAddress(ip, p, role);
        return true;
    }

    private static bool TryRole(string name, out ListenRole role)
    {
        role = name switch
        {
            "smtp" => ListenRole.Smtp,
            "submission" => ListenRole.Submission,
            "smtps" => ListenRole.Smtps,
            _ => (ListenRole)(-1),
        };
        return role >= 0;
    }

    public override string ToString() =>
        (Ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Ip}]" : Ip.ToString()) +
        $":{Port}/{Role.ToString().ToLowerInvariant()}";
}
