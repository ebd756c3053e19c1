using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>MX, A, null MX and DNS failures against a real DNS server (dnsmasq) on loopback, peers on port 25 of 127.0.0.x.</summary>
public class DnsTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-dns-test");
    private readonly DnsServer _dns;

    public DnsTests()
    {
        _dns = new DnsServer(
            "mx-host=pref.test,mx-b.pref.test,20", "mx-host=pref.test,mx-a.pref.test,10",
            "host-record=mx-a.pref.test,127.0.0.61", "host-record=mx-b.pref.test,127.0.0.62",
            "host-record=plain.test,127.0.0.63",
            "mx-host=nullmx.test,.,0",
            "mx-host=me.test,mx.me.test,10", "host-record=mx.me.test,127.0.0.1",
            "mx-host=dangling.test,nowhere.test,10");
        _home.WriteControl("dnsresolvers", $"127.0.0.1:{_dns.Port}\n");
        _home.WriteControl("timeoutconnect", "5\n");
    }

    public void Dispose() { _dns.Dispose(); _home.Dispose(); _dir.Dispose(); }

    private string Remote(bool compat, params string[] args)
    {
        File.WriteAllText(_dir["msg"], "Subject: dns\n\nbody\n");
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote") }.Concat(args),
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null });
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    [Fact]
    public void Best_preference_exchanger_gets_the_message()
    {
        using var best = new StubPeer("127.0.0.61", 25);
        Remote(true, "pref.test", "a@b", "c@pref.test").Should().Be("r|K127.0.0.61 accepted message.\nRemote host said: 250 ok 1 qp 2\n|");
        best.Received.Should().Contain("RCPT TO:<c@pref.test>");
    }

    [Fact]
    public void Falls_to_the_next_preference_when_the_best_refuses_connections()
    {
        using var second = new StubPeer("127.0.0.62", 25);
        Remote(true, "pref.test", "a@b", "c@pref.test").Should().StartWith("r|K127.0.0.62 accepted message.");
    }

    [Fact]
    public void Host_without_mx_is_reached_through_its_address()
    {
        using var peer = new StubPeer("127.0.0.63", 25);
        Remote(true, "plain.test", "a@b", "c@plain.test").Should().StartWith("r|K127.0.0.63 accepted");
    }

    [Fact]
    public void Unknown_domain_is_permanent()
    {
        Remote(true, "nosuch.test", "a@b", "c@nosuch.test")
            .Should().Be("DSorry, I couldn't find any host named nosuch.test. (#5.1.2)\n|");
    }

    [Theory]
    [InlineData(false, "DSorry, nullmx.test does not accept mail (null MX). (#5.1.10)\n|")]
    [InlineData(true, "DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n|")]
    public void Null_mx_is_a_permanent_failure(bool compat, string expected) =>
        Remote(compat, "nullmx.test", "a@b", "c@nullmx.test").Should().Be(expected);

    [Fact]
    public void Exchanger_without_address_leaves_no_host()
    {
        Remote(true, "dangling.test", "a@b", "c@dangling.test")
            .Should().Be("DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n|");
    }

    [Fact]
    public void Best_mx_is_this_machine()
    {
        Remote(true, "me.test", "a@b", "c@me.test").Should().Be(
            "DSorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n|");
    }

    [Fact]
    public void Dns_server_that_does_not_answer_is_temporary()
    {
        _home.WriteControl("dnsresolvers", "127.0.0.1:9\n");
        Remote(true, "pref.test", "a@b", "c@pref.test")
            .Should().Be("ZSorry, I couldn't find any host by that name. (#4.1.2)\n|");
    }

    [Fact]
    public void Address_literal_needs_no_dns()
    {
        using var peer = new StubPeer("127.0.0.64", 25);
        Remote(true, "[127.0.0.64]", "a@b", "c@[127.0.0.64]").Should().StartWith("r|K127.0.0.64 accepted");
    }
}
