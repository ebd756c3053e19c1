using System.Net;
using Jsmail.Common.Tcp;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>Addresses as ucspi-tcp-ipv6's tcpserver put them in TCPLOCALIP and TCPREMOTEIP (seen on real connections).</summary>
public class TcpAddressTextTests
{
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", false)]
    [InlineData("0.0.0.0", "0.0.0.0", false)]
    [InlineData("255.10.0.200", "255.10.0.200", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::", "::", true)]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", true)] // the first of two equal runs
    [InlineData("2001:db8:0:1:0:0:0:5", "2001:db8:0:1::5", true)] // the longest run
    [InlineData("2001:db8:aa:0:bb:0:cc:1", "2001:db8:aa::bb:0:cc:1", true)] // a single zero group too, unlike RFC 5952
    [InlineData("2001:db8:aa:0:bb:0:0:0", "2001:db8:aa:0:bb::", true)]
    [InlineData("2001:db8::", "2001:db8::", true)]
    [InlineData("2001:DB8:0:0:0:0:0:ABCD", "2001:db8::abcd", true)]
    [InlineData("fe80::1%1", "fe80::1", true)] // no scope
    [InlineData("::1.2.3.4", "::102:304", true)] // IPv4-compatible is plain hex
    [InlineData("::ffff:127.0.0.1", "127.0.0.1", false)] // IPv4-mapped is IPv4
    [InlineData("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", true)]
    [InlineData("0:0:1:2:3:4:5:6", "::1:2:3:4:5:6", true)]
    public void Formats_as_ucspi_tcp_does(string address, string text, bool v6)
    {
        var ip = IPAddress.Parse(address);

        Text(TcpAddressText.Format(ip)).Should().Be(text);
        TcpAddressText.IsIPv6(ip).Should().Be(v6);
    }
}
