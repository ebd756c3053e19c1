using System.Net;

namespace Jsmail.Common.Tcp;

/// <summary>
/// What tcpserver knows of a connection: both ends, and the names it has for
/// them. A null name is unknown (its variable unset): TCPLOCALHOST without -l
/// and no DNS name, TCPREMOTEHOST under -H or without a name, TCPREMOTEINFO
/// under -R or when the client's ident server did not answer.
/// </summary>
public sealed record TcpConnectionInfo(
    IPAddress LocalIp, int LocalPort, byte[]? LocalHost,
    IPAddress RemoteIp, int RemotePort, byte[]? RemoteHost, byte[]? RemoteInfo)
{
    /// <summary>TCP6INTERFACE: the name of the interface of a link-local local address; null otherwise (unset).</summary>
    public byte[]? LocalInterface { get; init; }
}
