using System.Net;
using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Remote;

/// <summary>jsmail-remote's control files (§6.3), read once.</summary>
internal sealed record RemoteSettings(byte[] HeloHost, int TimeoutRemote, int TimeoutConnect, ControlMap SmtpRoutes,
    IReadOnlyList<IPEndPoint> DnsServers, bool Compat)
{
    /// <summary>control/tlsdestinations (jsmail; empty in compat mode).</summary>
    public ControlMap TlsDestinations { get; init; } = new([]);

    /// <summary>control/remoteauth lines (jsmail; empty in compat mode).</summary>
    public IReadOnlyList<byte[]> RemoteAuth { get; init; } = [];

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
        };
    }

    /// <summary>control/dnsresolvers: "ip", "ip:port" or "[ipv6]:port" a line; none: /etc/resolv.conf.</summary>
    internal static List<IPEndPoint> DnsServersOf(List<byte[]> lines)
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
