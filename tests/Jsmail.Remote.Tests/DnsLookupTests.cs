using System.Net;
using DnsClient;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// MailHosts, the resolver jsmail-remote and jsmail-rspawn's pool use, in-process
/// against dnsmasq on loopback (the zone of <see cref="DefaultModeDnsTests"/>).
/// </summary>
public class DnsLookupTests : IDisposable
{
    private readonly DnsServer _dns = new(DefaultModeDnsTests.Zone());
    public void Dispose() => _dns.Dispose();

    private MailHosts Hosts(bool withIpv6 = true) =>
        new(MailHosts.Client([new IPEndPoint(IPAddress.Loopback, _dns.Port)]), withIpv6);

    [Fact]
    public void Equal_preferences_are_tried_in_random_order()
    {
        // 40 lookups all starting with the same exchanger: chance 2^-39.
        var firsts = Enumerable.Range(0, 40).Select(_ => Hosts().Exchangers("equal.test")).Select(r =>
        {
            r.Failure.Should().Be(LookupFailure.None);
            r.Hosts.Select(h => h.Address.ToString()).Order().Should().Equal("127.0.0.71", "127.0.0.72");
            return r.Hosts[0].Address.ToString();
        }).ToHashSet();
        firsts.Should().BeEquivalentTo(["127.0.0.71", "127.0.0.72"]);
    }

    [Fact]
    public void An_answer_too_big_for_udp_is_fetched_over_tcp_and_never_used_truncated()
    {
        // The same client without TCP: the answer really does not fit in 512 bytes, and truncated it is not used.
        var udpOnly = new LookupClient(new LookupClientOptions(new NameServer(IPAddress.Loopback, _dns.Port))
        {
            UseCache = false, UseTcpFallback = false, Retries = 0, Timeout = TimeSpan.FromSeconds(5), ThrowDnsErrors = false,
        });
        new MailHosts(udpOnly, true).Exchangers("big.test").Failure.Should().Be(LookupFailure.Soft);

        var (hosts, failure) = Hosts().Exchangers("big.test");
        failure.Should().Be(LookupFailure.None);
        hosts.Select(h => h.Preference).Should().Equal(Enumerable.Range(1, DefaultModeDnsTests.BigMx));
        hosts[^1].Should().Be(new MailHost(IPAddress.Parse("127.0.0.74"), DefaultModeDnsTests.BigMx, $"exchanger-{DefaultModeDnsTests.BigMx}.big.test"));
    }

    [Fact]
    public void A_cname_chain_gives_the_target_address_under_the_asked_name()
    {
        var (hosts, failure) = Hosts().Addresses("alias.test");
        failure.Should().Be(LookupFailure.None);
        // the chain's end is kept for DANE (RFC 7672 §2.2.2); the name asked for is the name used
        hosts.Should().Equal(new MailHost(IPAddress.Parse("127.0.0.73"), 0, "alias.test", Alias: "target.test", NameSecure: true));
    }

    [Fact]
    public void Both_families_ipv6_first_and_ipv4_only_without_aaaa()
    {
        Hosts().Addresses("dual.test").Hosts.Select(h => h.Address.ToString()).Should().Equal("::1", "127.0.0.1");
        Hosts(withIpv6: false).Addresses("dual.test").Hosts.Select(h => h.Address.ToString()).Should().Equal("127.0.0.1");
        Hosts().Addresses("v6only.test").Hosts.Select(h => h.Address.ToString()).Should().Equal("::1");
        Hosts(withIpv6: false).Addresses("v6only.test").Failure.Should().Be(LookupFailure.Hard);
    }

    [Theory]
    [InlineData("1::1,1::2,1::3", "10.0.0.1", "1::1,10.0.0.1,1::2,1::3")]
    [InlineData("1::1", "10.0.0.1,10.0.0.2,10.0.0.3", "1::1,10.0.0.1,10.0.0.2,10.0.0.3")]
    [InlineData("", "10.0.0.2,10.0.0.1", "10.0.0.2,10.0.0.1")]
    [InlineData("1::2,1::1", "", "1::2,1::1")]
    [InlineData("1::1,1::2", "10.0.0.1,10.0.0.2", "1::1,10.0.0.1,1::2,10.0.0.2")]
    public void Interleave_alternates_families_ipv6_first_keeping_each_familys_order(string v6, string v4, string expected)
    {
        static List<IPAddress> Parse(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(IPAddress.Parse).ToList();
        MailHosts.Interleave(Parse(v6), Parse(v4)).Should().Equal(Parse(expected));
    }
}
