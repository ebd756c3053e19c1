using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// Server mode's names for a connection, as tcpserver gives them: the
/// client's from its PTR record (--remote-host, tcpserver -h; --paranoid,
/// -p) with a real dnsmasq answering, and ucspi-tcp-ipv6's TCP6INTERFACE on
/// a link-local address, in a network namespace the test makes.
/// </summary>
public sealed class ServerModeNamesTests : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new("jsmail-server-names");
    private readonly List<ServerModeServer> _servers = [];

    // The name decides: a client under .test may relay; everyone else is dropped.
    private const string HostRules = "=.test:allow,RELAYCLIENT=\"\"\n:deny\n";
    private const string Message = "HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: named\r\n\r\nhi\r\n.\r\nQUIT\r\n";

    /// <summary>A queue wrapper recording what a check program would see of the connection.</summary>
    private string Wrapper(string variables)
    {
        var wrapper = _dir["queue-wrapper"];
        File.WriteAllText(wrapper, $"#!/bin/sh\necho \"{variables}\" >> {_dir["seen"]}\nexec {_h.Home.Bin("qmail-queue")}\n");
        File.SetUnixFileMode(wrapper, (UnixFileMode)0x1ED);
        return wrapper;
    }

    private ServerModeServer Start(DnsServer dns, params string[] options)
    {
        _h.Home.WriteControl("dnsresolvers", $"127.0.0.1:{dns.Port}\n");
        var s = new ServerModeServer(_h.Home.Path, _dir.Path, HostRules, options,
            env: new Dictionary<string, string?> { ["QMAILQUEUE"] = Wrapper("$TCPREMOTEHOST") });
        _servers.Add(s);
        return s;
    }

    [Fact]
    public void Remote_host_comes_from_the_ptr_record_in_lower_case_and_host_rules_decide_on_it()
    {
        using var dns = new DnsServer("ptr-record=1.0.0.127.in-addr.arpa,Client.Mail.TEST");
        var server = Start(dns, "--remote-host");

        server.Talk(Message).Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        File.ReadAllText(_dir["seen"]).Should().Be("client.mail.test\n");
        var queued = _h.Queued().Should().ContainSingle().Subject;
        SmtpdHome.S(queued.Message).Split('\n')[1].Should().Be("Received: from client.mail.test (HELO c) (127.0.0.1)");
        server.WaitForLog("tcpserver: end 1 ").Should().BeTrue(server.Log);
        server.Log.Should().MatchRegex(@"tcpserver: ok 1 mx.example:127.0.0.1:\d+ client.mail.test:127.0.0.1::\d+");
    }

    [Fact]
    public void Without_remote_host_no_name_is_looked_up_and_the_host_rule_does_not_apply()
    {
        using var dns = new DnsServer("ptr-record=1.0.0.127.in-addr.arpa,client.test");
        var server = Start(dns);

        server.Talk(Message).Should().BeEmpty("the default rule drops the connection without a word");
        server.WaitForLog("tcpserver: deny 1 ").Should().BeTrue(server.Log);
        server.Log.Should().MatchRegex(@"tcpserver: deny 1 mx.example:127.0.0.1:\d+ :127.0.0.1::\d+");
        _h.Queued().Should().BeEmpty();
    }

    [Fact]
    public void Paranoid_drops_a_name_whose_addresses_do_not_include_the_client_and_keeps_one_that_does()
    {
        // 127.0.0.1 claims to be liar.test, which is 127.0.0.9
        using var liar = new DnsServer("ptr-record=1.0.0.127.in-addr.arpa,liar.test", "host-record=liar.test,127.0.0.9");
        var trusting = Start(liar, "--remote-host");
        trusting.Talk(Message).Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        File.ReadAllText(_dir["seen"]).Should().Be("liar.test\n");

        var paranoid = Start(liar, "--paranoid");
        paranoid.Talk(Message).Should().BeEmpty("without its name the client falls to the default rule, deny");
        paranoid.WaitForLog("tcpserver: deny 1 ").Should().BeTrue(paranoid.Log);
        paranoid.Log.Should().MatchRegex(@"tcpserver: deny 1 mx.example:127.0.0.1:\d+ :127.0.0.1::\d+");

        // a name that resolves back to the client is kept
        using var honest = new DnsServer("host-record=honest.test,127.0.0.1");
        var checkedServer = Start(honest, "--paranoid");
        checkedServer.Talk(Message).Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        File.ReadAllText(_dir["seen"]).Should().Be("liar.test\nhonest.test\n");
        _h.Queued().Should().HaveCount(2);
    }

    [Fact]
    public void A_connection_to_a_link_local_address_gets_tcp6interface_as_ucspi_tcp_ipv6_sets_it()
    {
        // A namespace of the test's own: a veth pair whose end jv0 has fe80::1; the server and its clients live in it.
        var wrapper = Wrapper("${TCP6INTERFACE-unset} $TCPLOCALIP $PROTO");
        var client = _dir["client.py"];
        File.WriteAllText(client, """
            import smtplib, sys
            with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as s:
                s.sendmail("s@x", ["a@example.com"], "Subject: scoped\r\n\r\nhi\r\n")
            """);
        var script = _dir["netns.sh"];
        File.WriteAllText(script, $"""
            set -e
            ip link set lo up
            ip link add jv0 type veth peer name jv1
            ip addr add fe80::1/64 dev jv0 nodad
            ip link set jv0 up
            ip link set jv1 up
            QMAILQUEUE={wrapper} {_h.Home.Bin("jsmail-smtpd")} --listen '[::]:2525' --listen 127.0.0.1:2526 --single-user --local-host mx.example > {_dir["server.log"]} 2>&1 &
            server=$!
            trap 'kill $server 2>/dev/null' EXIT # a failed step below must not leave the server running
            for i in $(seq 200); do grep -q 'listening on' {_dir["server.log"]} && break; sleep 0.05; done
            /usr/bin/python3 {client} fe80::1%jv0 2525
            /usr/bin/python3 {client} 127.0.0.1 2526
            kill $server
            wait $server || true
            trap - EXIT
            """);
        var env = SmtpdHome.BaseEnvironment(compat: false).ToDictionary(kv => kv.Key, _ => (string?)null);
        var r = Run.Process("unshare", ["-n", "sh", script], env: env, timeoutMs: 60_000);

        r.ExitCode.Should().Be(0, r.Out + r.Err + File.ReadAllText(_dir["server.log"]));
        File.ReadAllText(_dir["seen"]).Should().Be("jv0 fe80::1 TCP6\nunset 127.0.0.1 TCP\n");
        _h.Queued().Should().HaveCount(2);
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        _h.Dispose();
        _dir.Dispose();
    }
}
