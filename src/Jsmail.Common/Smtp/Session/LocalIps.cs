using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// This host's IPv4 addresses, 0.0.0.0 included as notqmail includes it, for
/// the <c>@[d.d.d.d]</c> rewrite to localiphost. Read only when such an address arrives.
/// </summary>
public static class LocalIps
{
    private static HashSet<uint>? s_addresses;

    /// <exception cref="NetworkInformationException">the interfaces cannot be listed</exception>
    public static bool Contains(uint ip)
    {
        s_addresses ??= Enumerate();
        return s_addresses.Contains(ip);
    }

    private static HashSet<uint> Enumerate()
    {
        var set = new HashSet<uint> { 0 };
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
                if (a.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    var b = a.Address.GetAddressBytes();
                    set.Add((uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]));
                }
        return set;
    }
}
