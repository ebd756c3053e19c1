using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Tcp;
using Jsmail.TestSupport;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>
/// The environment we build for a connection against the one the real
/// tcpserver gives its program (env(1), which prints it back over the
/// connection): the same entries in the same order.
/// </summary>
public class TcpserverEnvironmentTests
{
    /// <summary>
    /// tcpserver's own environment: a stale TCPREMOTEHOST and TCPREMOTEINFO
    /// that -H and -R must unset, and a HOME the rule overrides.
    /// </summary>
    private static readonly string[] BaseEnvironment =
        ["HOME=/root", "PATH=/usr/bin:/bin", "TCPREMOTEHOST=stale.example", "FOO=bar", "TCPREMOTEINFO=stale", "ZED=z"];

    [Theory]
    [InlineData("127.0.0.1:allow,RELAYCLIENT=\"\",A=\"1\",HOME=\"/override\",A=\"2\",TCPLOCALHOST=\"movie.edu\",PROTO=\"XX\"\n", true)]
    [InlineData("127.0.0.1:allow,SUBMISSION=\"\",QMAILQUEUE=\"/var/qmail/bin/qmail-queue\",DATABYTES=\"1000\"\n", true)]
    [InlineData("127.:allow\n", true)]
    [InlineData(":allow,TCPREMOTEHOST=\"from.rules\"\n", true)]
    [InlineData("127.0.0.1:deny\n", false)]
    public void Matches_tcpservers_for_a_loopback_connection(string rulesText, bool allowed)
    {
        using var dir = new TempDir("tcpenv");
        Run.Process("tcprules", [dir["rules.cdb"], dir["rules.tmp"]], stdin: Encoding.ASCII.GetBytes(rulesText))
            .ExitCode.Should().Be(0);
        var port = Ports.Free();
        using var server = Run.Start("env",
            ["-i", .. BaseEnvironment, "tcpserver", "-R", "-H", "-l", "mx.example", "-x", dir["rules.cdb"], "127.0.0.1", port.ToString(), "env"]);
        try
        {
            Ports.WaitForListener(port, "tcpserver");
            var (theirs, clientPort) = ReadWhatTcpserverRuns(port);

            using var rules = TcpRules.Open(dir["rules.cdb"], allowMissing: false);
            var decision = rules.Decide("127.0.0.1"u8, null, null);
            var connection = new TcpConnectionInfo(IPAddress.Loopback, port, "mx.example"u8.ToArray(),
                IPAddress.Loopback, clientPort, null, null);
            var ours = TcpserverEnvironment.Build(BaseEnvironment.Select(Bytes), connection, decision);

            // A denied connection is closed without running the program: nothing comes back.
            decision.Allowed.Should().Be(allowed);
            if (allowed) ours.Select(e => Text(e)).Should().Equal(theirs);
            else theirs.Should().BeEmpty();
        }
        finally
        {
            server.Kill();
            server.WaitForExit(10_000);
        }
    }

    [Fact]
    public void Sets_the_TCP6_twins_for_IPv6_as_ucspi_tcp_ipv6_does()
    {
        // ucspi-tcp-ipv6's tcpserver -R -H -l mx ::1 2601 env, started with "env -i X=1 TCP6REMOTEHOST=stale",
        // printed this for a connection from ::1 port 57119 (its stale variable is unset and so moved).
        var connection = new TcpConnectionInfo(IPAddress.IPv6Loopback, 2601, "mx"u8.ToArray(),
            IPAddress.IPv6Loopback, 57119, null, null);

        var env = TcpserverEnvironment.Build([Bytes("X=1"), Bytes("TCP6REMOTEHOST=stale")], connection, TcpRuleDecision.NoRule);

        env.Select(e => Text(e)).Should().Equal(
            "X=1", "TCP6REMOTEPORT=57119", "PROTO=TCP6", "TCPLOCALIP=::1", "TCP6LOCALIP=::1",
            "TCPLOCALPORT=2601", "TCP6LOCALPORT=2601", "TCPLOCALHOST=mx", "TCP6LOCALHOST=mx",
            "TCPREMOTEIP=::1", "TCP6REMOTEIP=::1", "TCPREMOTEPORT=57119");
    }

    [Fact]
    public void A_link_local_connection_gets_TCP6INTERFACE_after_the_local_names_and_an_IPv4_one_loses_a_stale_one()
    {
        var scoped = new TcpConnectionInfo(IPAddress.Parse("fe80::1%3"), 25, "mx"u8.ToArray(), IPAddress.Parse("fe80::2%3"), 40000, null, null)
        {
            LocalInterface = "eth0"u8.ToArray(),
        };
        TcpserverEnvironment.Build([], scoped, TcpRuleDecision.NoRule).Select(e => Text(e)).Should().Equal(
            "PROTO=TCP6", "TCPLOCALIP=fe80::1", "TCP6LOCALIP=fe80::1", "TCPLOCALPORT=25", "TCP6LOCALPORT=25",
            "TCPLOCALHOST=mx", "TCP6LOCALHOST=mx", "TCP6INTERFACE=eth0",
            "TCPREMOTEIP=fe80::2", "TCP6REMOTEIP=fe80::2", "TCPREMOTEPORT=40000", "TCP6REMOTEPORT=40000");

        var v4 = new TcpConnectionInfo(IPAddress.Loopback, 25, null, IPAddress.Loopback, 40000, null, null);
        TcpserverEnvironment.Build([Bytes("TCP6INTERFACE=stale")], v4, TcpRuleDecision.NoRule).Select(e => Text(e))
            .Should().NotContain(e => e.StartsWith("TCP6INTERFACE="));
    }

    [Fact]
    public void An_IPv4_mapped_connection_is_IPv4_and_known_names_are_set()
    {
        var connection = new TcpConnectionInfo(IPAddress.Parse("::ffff:192.0.2.1"), 25, null,
            IPAddress.Parse("::ffff:198.51.100.7"), 40000, "client.example"u8.ToArray(), "joe"u8.ToArray());

        var env = TcpserverEnvironment.Build([], connection, TcpRuleDecision.NoRule);

        env.Select(e => Text(e)).Should().Equal(
            "PROTO=TCP", "TCPLOCALIP=192.0.2.1", "TCPLOCALPORT=25", "TCPREMOTEIP=198.51.100.7",
            "TCPREMOTEPORT=40000", "TCPREMOTEHOST=client.example", "TCPREMOTEINFO=joe");
    }

    /// <summary>Connects, reads until tcpserver's program closes the connection, and says from which port.</summary>
    private static (string[] Lines, int ClientPort) ReadWhatTcpserverRuns(int port)
    {
        using var client = new TcpClient();
        client.ReceiveTimeout = 10_000;
        client.Connect(IPAddress.Loopback, port);
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        using var output = new MemoryStream();
        client.GetStream().CopyTo(output);
        return (Text(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries), clientPort);
    }
}
