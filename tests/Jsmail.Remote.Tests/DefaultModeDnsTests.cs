using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-remote's DNS and IPv6 outside compat mode, against dnsmasq on
/// loopback: a 40-MX answer that only TCP carries, CNAME chains, AAAA-only
/// hosts, both families of one host in order, delivery over ::1,
/// control/outgoingip for IPv6. Exchangers listen on port 25 of 127.0.0.7x.
/// The lookups themselves: <see cref="DnsLookupTests"/>.
/// </summary>
public class DefaultModeDnsTests : IDisposable
{
    public const int BigMx = 40;
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-dns6-test");
    private readonly DnsServer _dns;
    private readonly ITestOutputHelper _output;

    public DefaultModeDnsTests(ITestOutputHelper output)
    {
        _output = output;
        _dns = new DnsServer(Zone());
        _home.WriteControl("dnsresolvers", $"127.0.0.1:{_dns.Port}\n");
        _home.WriteControl("timeoutconnect", "5\n");
    }

    /// <summary>The test zone, shared with <see cref="DnsLookupTests"/>.</summary>
    public static string[] Zone()
    {
        var lines = new List<string>
        {
            // UDP answers stop at 512 bytes (with or without EDNS): the 40 MX of big.test need TCP.
            "edns-packet-max=512",
            "mx-host=equal.test,mx-1.equal.test,10", "mx-host=equal.test,mx-2.equal.test,10",
            "host-record=mx-1.equal.test,127.0.0.71", "host-record=mx-2.equal.test,127.0.0.72",
            "cname=alias.test,middle.test", "cname=middle.test,target.test", "host-record=target.test,127.0.0.73",
            "host-record=v6only.test,::1",
            "mx-host=v6mx.test,mx.v6mx.test,10", "host-record=mx.v6mx.test,::1",
            "host-record=dual.test,127.0.0.1,::1",
        };
        // The only reachable exchanger has the worst preference; the others' addresses refuse connections at once.
        for (var i = 1; i < BigMx; i++)
            lines.AddRange([$"mx-host=big.test,exchanger-{i:D2}.big.test,{i}", $"host-record=exchanger-{i:D2}.big.test,127.0.1.{i}"]);
        lines.AddRange([$"mx-host=big.test,exchanger-{BigMx}.big.test,{BigMx}", $"host-record=exchanger-{BigMx}.big.test,127.0.0.74"]);
        return [.. lines];
    }

    public void Dispose() { _dns.Dispose(); _home.Dispose(); _dir.Dispose(); }

    private string Remote(bool compat, params string[] args)
    {
        File.WriteAllText(_dir["msg"], "Subject: dns\n\nbody\n");
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote") }.Concat(args),
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private string Remote(params string[] args) => Remote(false, args);

    [Fact]
    public void The_worst_of_40_exchangers_that_only_tcp_lists_gets_the_message()
    {
        using var last = new StubPeer("127.0.0.74", 25);
        Remote("big.test", "a@b", "c@big.test").Should().StartWith("r|K127.0.0.74 accepted message.");
        last.Received.Should().Contain("RCPT TO:<c@big.test>\r\n");
    }

    [Fact]
    public void A_cname_chain_leads_to_the_address()
    {
        using var peer = new StubPeer("127.0.0.73", 25);
        Remote("alias.test", "a@b", "c@alias.test").Should().StartWith("r|K127.0.0.73 accepted message.");
        peer.Received.Should().Contain("RCPT TO:<c@alias.test>\r\n");
    }

    [Ipv6Fact]
    public void An_aaaa_only_relay_is_reached_over_ipv6_unless_aaaa_is_switched_off()
    {
        using var peer = new StubPeer("::1");
        _home.WriteControl("smtproutes", $"x.test:v6only.test:{peer.Port}\n");
        Remote("x.test", "a@b", "c@x.test").Should().Be("r|K::1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|");
        peer.Clients.Should().ContainSingle().Which.Should().StartWith("::1");

        var noAaaa = "DSorry, I couldn't find any host named v6only.test. (#5.1.2)\n|";
        _home.WriteControl("remotedisable", "AAAA\n");
        Remote("x.test", "a@b", "c@x.test").Should().Be(noAaaa);
        _home.WriteControl("remotedisable", "");
        Remote(compat: true, "x.test", "a@b", "c@x.test").Should().Be(noAaaa, "qmail looks up A records only");
    }

    [Ipv6Fact]
    public void An_exchanger_with_only_an_aaaa_record_counts()
    {
        // Its AAAA is ::1, this machine's own: found, so "best MX is me"; without AAAA it has no address at all.
        Remote("v6mx.test", "a@b", "c@v6mx.test").Should().Be(
            "DSorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n|");
        _home.WriteControl("remotedisable", "aaaa\n");
        Remote("v6mx.test", "a@b", "c@v6mx.test").Should().Be("DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n|");
    }

    [Ipv6Fact]
    public void Ipv6_is_tried_first_and_ipv4_after_it()
    {
        using (var v6 = new StubPeer("::1"))
        using (var v4 = new StubPeer("127.0.0.1", v6.Port, new() { ["timeout"] = 1 }))
        {
            _home.WriteControl("smtproutes", $"x.test:dual.test:{v6.Port}\n");
            Remote("x.test", "a@b", "c@x.test").Should().StartWith("r|K::1 accepted message.");
            v6.Clients.Should().HaveCount(1);
            v4.Clients.Should().BeEmpty();
        }
        using var only4 = new StubPeer("127.0.0.1");
        _home.WriteControl("smtproutes", $"x.test:dual.test:{only4.Port}\n");
        Remote("x.test", "a@b", "c@x.test").Should().StartWith("r|K127.0.0.1 accepted message.", "::1 refused, so IPv4 is next");
    }

    [Ipv6Fact]
    public void Outgoingip_gives_the_ipv6_source_address()
    {
        // ::1 is the only source the kernel picks for ::1; another address of this machine shows the choice.
        var source = NonLoopbackIpv6();
        if (source == null)
        {
            _output.WriteLine("not run: this machine has no IPv6 address besides ::1 and link-local ones to connect from");
            return;
        }
        using var peer = new StubPeer("::1");
        _home.WriteControl("smtproutes", $"x.test:[IPv6:::1]:{peer.Port}\n");
        _home.WriteControl("outgoingip", $"127.0.0.2\n{source}\n");
        Remote("x.test", "a@b", "c@x.test").Should().StartWith("r|K::1 accepted message.");
        peer.Clients.Should().ContainSingle().Which.Should().StartWith(source.ToString());
    }

    private static IPAddress? NonLoopbackIpv6() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6 && !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal);

}

/// <summary>A test that delivers over ::1: skipped, saying why, on a machine without it.</summary>
public sealed class Ipv6FactAttribute : FactAttribute
{
    public Ipv6FactAttribute()
    {
        if (!HasIpv6Loopback()) Skip = "this machine has no ::1 (IPv6 loopback) to deliver over";
    }

    private static bool HasIpv6Loopback()
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException) { return false; }
    }
}
