using System.Net;
using System.Net.Sockets;

namespace Jsmail.Common.Smtp;

/// <summary>
/// Where a filter listens (a milter of control/milters, a policy service of
/// control/policy), in Postfix's syntax: <c>inet:host:port</c>,
/// <c>inet:[ipv6]:port</c> or <c>unix:/path</c>. The one parser and the one
/// connect for both, so the two control files read their sockets alike.
/// </summary>
/// <param name="Text">as the control line has it, for log lines</param>
/// <param name="UnixPath">the socket's path for unix:, else null</param>
/// <param name="Host">the host (a name or an address; ::1 for [::1]) for inet:, else null</param>
public sealed record FilterEndpoint(string Text, string? UnixPath, string? Host, int Port)
{
    /// <summary>The endpoint, or null when the text is not one.</summary>
    /// <param name="home">what a relative unix: path is relative to (Postfix: the queue directory)</param>
    public static FilterEndpoint? Parse(string text, string home)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text[5..];
            return path.Length == 0 ? null : new FilterEndpoint(text, Path.Combine(home, path), null, 0);
        }
        if (!text.StartsWith("inet:", StringComparison.Ordinal)) return null;
        var rest = text[5..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(rest[(colon + 1)..], out var port) || port == 0) return null;
        var host = rest[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return host.Length == 0 ? null : new FilterEndpoint(text, null, host, port);
    }

    /// <summary>
    /// A socket connected to the endpoint (a host name is looked up by the
    /// connect). A failed or cancelled connect disposes the socket and throws.
    /// </summary>
    public async Task<Socket> ConnectAsync(CancellationToken cancel)
    {
        var (socket, address) = NewSocket();
        try
        {
            await socket.ConnectAsync(address, cancel);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private (Socket Socket, EndPoint Address) NewSocket()
    {
        if (UnixPath is { } path)
            return (new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), new UnixDomainSocketEndPoint(path));
        if (IPAddress.TryParse(Host, out var ip))
            return (new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(ip, Port));
        return (new Socket(SocketType.Stream, ProtocolType.Tcp), new DnsEndPoint(Host!, Port));
    }
}
