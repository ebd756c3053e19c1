using System.Globalization;
using System.Net;
using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Common.Metrics;

/// <summary>
/// Where a long-running program serves its metrics (docs/metrics.md):
/// <c>IP:PORT</c>, <c>[IPv6]:PORT</c>, or a bare <c>PORT</c> on the loopback
/// address (a monitoring endpoint is for this host unless the operator names
/// another address). Never a host name: no DNS at start-up.
/// </summary>
public static class MetricsAddress
{
    public static bool TryParse(string text, out IPEndPoint? endpoint, out string? error)
    {
        endpoint = null;
        text = text.Trim();
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') { error = $"'{text}' is not [IPv6]:PORT"; return false; }
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else if (text.IndexOf(':') is var colon && colon < 0)
        {
            host = "127.0.0.1";
            port = text;
        }
        else
        {
            if (text.LastIndexOf(':') != colon) { error = $"'{text}' is not IP:PORT (write an IPv6 address in brackets: [::1]:9101)"; return false; }
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (!IPAddress.TryParse(host, out var ip)) { error = $"'{host}' is not an IP address"; return false; }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        {
            error = $"'{port}' is not a port number";
            return false;
        }
        endpoint = new IPEndPoint(ip, p);
        error = null;
        return true;
    }

    /// <summary>
    /// The address in control/<paramref name="name"/>; null when the file is
    /// missing or empty (metrics off) and always under JSMAIL_COMPAT=qmail
    /// (qmail has none). Throws <see cref="ControlReadException"/> for a file
    /// that cannot be read, <see cref="MetricsAddressException"/> for one that
    /// does not hold an address.
    /// </summary>
    public static IPEndPoint? FromControl(ControlReader controls, string name, bool compat)
    {
        if (compat) return null;
        var line = controls.ReadLine(name, fallbackToMe: false, literalDefault: []);
        if (line.Length == 0) return null;
        if (!TryParse(Encoding.ASCII.GetString(line), out var endpoint, out var error))
            throw new MetricsAddressException($"control/{name}: {error}");
        return endpoint;
    }
}

/// <summary>A metrics address that is not one: the program says so and does not start.</summary>
public sealed class MetricsAddressException(string message) : Exception(message);
