using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Jsmail.SmtpServer;

/// <summary>
/// The environment a connection's session sees, built as tcpserver builds its
/// child's: the server's own environment, then the variables tcpserver sets
/// (TCPLOCALIP, TCPLOCALPORT, TCPLOCALHOST, TCPREMOTEIP, TCPREMOTEPORT, PROTO;
/// TCPREMOTEHOST and TCPREMOTEINFO are never known here, as under tcpserver -H
/// -R), then the assignments of the rule that matched. It goes to the check
/// program and checkpassword as their environment, and the session reads its
/// settings (RELAYCLIENT, DATABYTES, QMAILQUEUE, SUBMISSION, JSMAIL_COMPAT)
/// from it; the server's process environment is never changed.
/// </summary>
public sealed class ConnectionVariables
{
    /// <summary>Variables tcpserver sets or unsets for every connection: never taken from the server's environment.</summary>
    private static readonly string[] Owned =
        ["TCPLOCALIP", "TCPLOCALPORT", "TCPLOCALHOST", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPREMOTEHOST", "TCPREMOTEINFO", "PROTO"];

    private readonly List<KeyValuePair<string, byte[]>> _set = new();

    public string RemoteIp { get; }
    public int RemotePort { get; }
    public string LocalIp { get; }
    public int LocalPort { get; }
    public string? LocalHost { get; }
    /// <summary>"TCP" or "TCP6", as ucspi-tcp-ipv6 names the protocol.</summary>
    public string Proto { get; }

    public ConnectionVariables(IPEndPoint remote, IPEndPoint local, string? localHost)
    {
        var v6 = remote.AddressFamily == AddressFamily.InterNetworkV6 && !remote.Address.IsIPv4MappedToIPv6;
        RemoteIp = Text(remote.Address);
        RemotePort = remote.Port;
        LocalIp = Text(local.Address);
        LocalPort = local.Port;
        LocalHost = localHost;
        Proto = v6 ? "TCP6" : "TCP";
        Put("PROTO", Proto);
        Put("TCPLOCALIP", LocalIp);
        Put("TCPLOCALPORT", LocalPort.ToString());
        if (localHost != null) Put("TCPLOCALHOST", localHost);
        Put("TCPREMOTEIP", RemoteIp);
        Put("TCPREMOTEPORT", RemotePort.ToString());
    }

    /// <summary>An address as tcpserver writes it: dotted quad, or the compressed IPv6 form without a scope.</summary>
    public static string Text(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily == AddressFamily.InterNetworkV6) ip = new IPAddress(ip.GetAddressBytes());
        return ip.ToString();
    }

    public void Put(string name, string value) => Put(name, Encoding.UTF8.GetBytes(value));

    /// <summary>Sets a variable for this connection (a later assignment replaces an earlier one, as env_put does).</summary>
    public void Put(string name, byte[] value)
    {
        _set.RemoveAll(kv => kv.Key == name);
        _set.Add(new(name, value));
    }

    /// <summary>The value the session sees: this connection's, else the server's own environment's.</summary>
    public byte[]? Get(string name, IReadOnlyList<byte[]> serverEnvironment)
    {
        foreach (var kv in _set)
            if (kv.Key == name) return kv.Value;
        if (Array.IndexOf(Owned, name) >= 0) return null;
        var prefix = Encoding.ASCII.GetBytes(name + "=");
        foreach (var entry in serverEnvironment)
            if (entry.AsSpan().StartsWith(prefix)) return entry[prefix.Length..];
        return null;
    }

    /// <summary>The whole environment as NAME=value entries: the server's, less what tcpserver owns or a rule set, plus this connection's.</summary>
    public List<byte[]> Environment(IReadOnlyList<byte[]> serverEnvironment)
    {
        var list = new List<byte[]>(serverEnvironment.Count + _set.Count);
        foreach (var entry in serverEnvironment)
        {
            var eq = Array.IndexOf(entry, (byte)'=');
            var name = Encoding.UTF8.GetString(entry, 0, eq < 0 ? entry.Length : eq);
            if (Array.IndexOf(Owned, name) >= 0 || _set.Exists(kv => kv.Key == name)) continue;
            list.Add(entry);
        }
        foreach (var kv in _set)
        {
            var entry = new byte[kv.Key.Length + 1 + kv.Value.Length];
            Encoding.ASCII.GetBytes(kv.Key, entry);
            entry[kv.Key.Length] = (byte)'=';
            kv.Value.CopyTo(entry, kv.Key.Length + 1);
            list.Add(entry);
        }
        return list;
    }
}
