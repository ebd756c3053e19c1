using System.Text;

namespace Jsmail.Common.Tcp;

/// <summary>
/// The environment tcpserver gives the program it runs for a connection: its
/// own, with the connection's variables and then the rule's assignments, set
/// in tcpserver's order so that the entries come out as tcpserver's do.
/// </summary>
/// <remarks>
/// IPv4 (an IPv4-mapped address included) gets Debian's ucspi-tcp variables:
/// PROTO=TCP, TCPLOCALIP, TCPLOCALPORT, TCPLOCALHOST, TCPREMOTEIP,
/// TCPREMOTEPORT, TCPREMOTEHOST, TCPREMOTEINFO. IPv6 gets ucspi-tcp-ipv6's:
/// PROTO=TCP6 and each TCP variable followed by its TCP6 twin with the same
/// value (TCP6LOCALIP, ...), and TCP6INTERFACE after the local names when the
/// local address is link-local (its interface's name). Unknown names unset their variables, so that a stale one
/// inherited from the server's environment never reaches the program.
/// </remarks>
public static class TcpserverEnvironment
{
    public static List<byte[]> Build(IEnumerable<byte[]> baseEnvironment, TcpConnectionInfo connection, TcpRuleDecision rules)
    {
        var v6 = TcpAddressText.IsIPv6(connection.RemoteIp);
        var env = new UcspiEnvironment(baseEnvironment);
        env.Set("PROTO", v6 ? "TCP6"u8 : "TCP"u8);
        Set(env, v6, "LOCALIP", TcpAddressText.Format(connection.LocalIp));
        Set(env, v6, "LOCALPORT", Port(connection.LocalPort));
        Set(env, v6, "LOCALHOST", connection.LocalHost);
        // ucspi-tcp-ipv6 sets it after the local names, for an IPv6 connection on a scoped address only
        env.SetOrUnset("TCP6INTERFACE", v6 ? connection.LocalInterface : null);
        Set(env, v6, "REMOTEIP", TcpAddressText.Format(connection.RemoteIp));
        Set(env, v6, "REMOTEPORT", Port(connection.RemotePort));
        Set(env, v6, "REMOTEHOST", connection.RemoteHost);
        Set(env, v6, "REMOTEINFO", connection.RemoteInfo);
        foreach (var a in rules.Assignments)
            env.Set(a.Name, a.Value);
        return env.Entries;
    }

    private static void Set(UcspiEnvironment env, bool v6, string suffix, byte[]? value)
    {
        env.SetOrUnset("TCP" + suffix, value);
        if (v6) env.SetOrUnset("TCP6" + suffix, value);
    }

    private static byte[] Port(int port) => Encoding.ASCII.GetBytes(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
