using System.Net;
using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Common.Remote;

/// <summary>jsmail-remote's control files (§6.3), read once.</summary>
public sealed record RemoteSettings(byte[] HeloHost, int TimeoutRemote, int TimeoutConnect, ControlMap SmtpRoutes,
    IReadOnlyList<IPEndPoint> DnsServers, bool Compat)
{
    /// <summary>control/tlsdestinations (jsmail; empty in compat mode).</summary>
    public ControlMap TlsDestinations { get; init; } = new([]);

    /// <summary>control/remoteauth lines (jsmail; empty in compat mode).</summary>
    public IReadOnlyList<byte[]> RemoteAuth { get; init; } = [];

    /// <summary>control/outgoingip: the local addresses to connect from, one per family (none in compat mode).</summary>
    public IReadOnlyList<IPAddress> OutgoingIps { get; init; } = [];

    /// <summary>control/remotedisable: what the client does beyond qmail-remote, less what is switched off (none in compat mode).</summary>
    public RemoteFeatures Features { get; init; } = RemoteFeatures.All;

    /// <summary>The configured source address of the peer's family, if any.</summary>
    public IPAddress? OutgoingIpFor(IPAddress peer) => OutgoingIps.FirstOrDefault(a => a.AddressFamily == peer.AddressFamily);

    public static RemoteSettings Read(ControlReader control)
    {
        var compat = Jsmail.Common.Control.Compat.IsQmail;
        return new RemoteSettings(
            control.ReadLine("helohost", fallbackToMe: true, literalDefault: null),
            (int)Math.Clamp(control.ReadInt("timeoutremote", 1200), 1, int.MaxValue / 1000),
            (int)Math.Clamp(control.ReadInt("timeoutconnect", 60), 1, int.MaxValue / 1000),
            control.ReadMap("smtproutes"),
            DnsServersOf(control.ReadList("dnsresolvers")),
            compat)
        {
            TlsDestinations = compat ? new ControlMap([]) : control.ReadMap("tlsdestinations"),
            RemoteAuth = compat ? [] : control.ReadList("remoteauth"),
            OutgoingIps = compat ? [] : OutgoingIpsOf(control.ReadList("outgoingip")),
            Features = compat ? RemoteFeatures.None : RemoteFeatureNames.Enabled(control.ReadList(RemoteFeatureNames.DisableFile)),
        };
    }

    /// <summary>
    /// control/outgoingip: an IPv4 and/or an IPv6 address, a line each (the first of
    /// each family counts). A line that is not an address is a configuration error
    /// (temporary), never a silent connect from the default address.
    /// </summary>
    public static List<IPAddress> OutgoingIpsOf(List<byte[]> lines)
    {
        var list = new List<IPAddress>();
        foreach (var line in lines)
        {
            var text = Encoding.ASCII.GetString(line).Trim();
            if (text.Length == 0) continue;
            if (!IPAddress.TryParse(text, out var ip) || text.Contains('%'))
                throw new ControlReadException("outgoingip", Jsmail.Common.Os.Errno.EINVAL);
            if (list.All(a => a.AddressFamily != ip.AddressFamily)) list.Add(ip);
        }
        return list;
    }

    /// <summary>control/dnsresolvers: "ip", "ip:port" or "[ipv6]:port" a line; none: /etc/resolv.conf.</summary>
    public static List<IPEndPoint> DnsServersOf(List<byte[]> lines)
    {
        var list = new List<IPEndPoint>();
        foreach (var line in lines)
        {
            var text = Encoding.ASCII.GetString(line).Trim();
            if (IPEndPoint.TryParse(text, out var ep))
            {
                if (ep.Port == 0) ep.Port = 53;
                list.Add(ep);
            }
        }
        return list;
    }
}
