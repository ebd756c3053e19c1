using System.Text;
using Jsmail.TestSupport;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;
using static Jsmail.Smtpd.Tests.ScriptedMilter;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// After XCLIENT the new client passes through what a connecting client
/// passes through: qmail-spp [connection] plugins, native connect hooks and
/// milters' connect (on new milter connections), each seeing the new address;
/// ADDR=[UNAVAILABLE] makes the address unknown; the tcprules CDB is looked up
/// again for the new address (server mode's --rules, JSMAIL_RULES per connection).
/// </summary>
public sealed class XclientStagesTests : IDisposable
{
    private readonly SmtpdHome _h = new();
    private readonly TempDir _dir = new("jsmail-xclient-stages");

    public void Dispose()
    {
        _h.Dispose();
        _dir.Dispose();
    }

    private static readonly TempDir Built = new("jsmail-xclient-stages-built");
    private static readonly Lazy<string> XclientLibrary = new(() => Cc("xclient.so", Path.Combine(Repo.Root, "plugins", "xclient.c")));

    /// <summary>A connect hook that logs the address it sees and refuses 192.0.2.66 (ABI version 1's calls only).</summary>
    private static readonly Lazy<string> ConnectHookLibrary = new(() =>
    {
        var source = Built["connect-hook.c"];
        File.WriteAllText(source, """
            #include <jsmail/plugin.h>
            static const jsmail_api *api;
            static int same(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
            static int on_connect(void *data, const jsmail_session *s, jsmail_reply *reply)
            {
                const char *ip = api->fact(s, JSMAIL_FACT_REMOTE_IP, 0, 0);
                char line[128] = "connect hook sees ";
                int n = 18;
                while (ip && *ip && n < 120) line[n++] = *ip++;
                line[n] = 0;
                api->log(s, line);
                ip = api->fact(s, JSMAIL_FACT_REMOTE_IP, 0, 0);
                if (!ip || !same(ip, "192.0.2.66")) return JSMAIL_CONTINUE;
                reply->code = 554;
                const char *t = "connect hook refuses this client";
                for (n = 0; t[n]; n++) reply->text[n] = t[n];
                reply->text[n] = 0;
                (void)data;
                return JSMAIL_REJECT;
            }
            unsigned jsmail_plugin_abi_version(void) { return JSMAIL_PLUGIN_ABI_VERSION; }
            int jsmail_plugin_init(const char *args, const jsmail_registrar *r)
            {
                (void)args;
                api = r->api;
                return r->hook(r->host, JSMAIL_EVENT_CONNECT, on_connect);
            }
            """);
        return Cc("connect-hook.so", source);
    });

    private static string Cc(string output, string source)
    {
        var path = Built[output];
        var r = Run.Process("cc", ["-shared", "-fPIC", "-O2", "-I", Path.Combine(Repo.Root, "include"), "-o", path, source], timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        return path;
    }

    private static readonly Dictionary<string, string?> Allowed = new() { ["XCLIENT"] = "" };

    private void SppPlugin(string name, string script)
    {
        Directory.CreateDirectory(Path.Combine(_h.Home.Path, "plugins"));
        var path = Path.Combine(_h.Home.Path, "plugins", name);
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
    }

    [Theory, ForEachDriver]
    public void A_connection_plugin_that_refuses_an_address_refuses_the_client_XCLIENT_sets_and_not_the_proxy(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = _dir["spp-seen"];
        SppPlugin("refuse", $$"""
            echo "${TCPREMOTEIP-unset}" >> '{{seen}}'
            case "$TCPREMOTEIP" in 192.0.2.66) echo 'E554 5.7.1 not from 192.0.2.66' ;; esac
            """);
        _h.Home.WriteControl("smtpplugins", "[connection]\nplugins/refuse\n");
        // one XCLIENT a session: in server mode the new client's rule (none) does not allow another
        _h.Talk(driver, "HELO proxy.example\r\nXCLIENT ADDR=192.0.2.7\r\nQUIT\r\n", env: Allowed).Out
            .Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n220 mx.example ESMTP\r\n221 2.0.0 mx.example\r\n");
        var r = _h.Talk(driver, "HELO proxy.example\r\nXCLIENT ADDR=192.0.2.66\r\nQUIT\r\n", env: Allowed);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n554 5.7.1 not from 192.0.2.66\r\n221 2.0.0 mx.example\r\n",
            "the [connection] plugin's text stands for the greeting, for the client XCLIENT set as for one that connects");
        File.ReadAllText(seen).Should().Be("127.0.0.1\n192.0.2.7\n127.0.0.1\n192.0.2.66\n");
    }

    [Theory, ForEachDriver]
    public void A_native_connect_hook_sees_the_new_address_and_its_refusal_closes_the_connection(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", $"{ConnectHookLibrary.Value}\n{XclientLibrary.Value}\n");
        var first = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=192.0.2.7\r\nEHLO proxy.example\r\nQUIT\r\n", env: Allowed);
        first.Out.Should().StartWith("220 mx.example ESMTP\r\n").And.Contain("250 XCLIENT ADDR").And.Contain("\r\n220 mx.example ESMTP\r\n")
            .And.EndWith("\r\n221 2.0.0 mx.example\r\n");
        var r = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=192.0.2.66\r\nNOOP\r\n", env: Allowed);
        r.Out.Should().EndWith("250 XCLIENT ADDR NAME PORT HELO LOGIN PROTO\r\n554 5.7.1 connect hook refuses this client\r\n",
            "a refusal at connect closes: NOOP gets no reply");
        var seen = (first.Err + r.Err).Split('\n').Where(l => l.Contains("connect hook sees")).ToList();
        seen.Should().Equal("jsmail-smtpd: 127.0.0.1: connect hook sees 127.0.0.1", "jsmail-smtpd: 192.0.2.7: connect hook sees 192.0.2.7",
            "jsmail-smtpd: 127.0.0.1: connect hook sees 127.0.0.1", "jsmail-smtpd: 192.0.2.66: connect hook sees 192.0.2.66");
    }

    [Theory, ForEachDriver]
    public void A_policy_service_asked_at_CONNECT_is_asked_again_about_the_new_client_and_its_refusal_answers_later_commands(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        using var policy = new ScriptedPolicyServer(q => q["protocol_state"] == "CONNECT" && q["client_address"] == "192.0.2.66"
            ? ScriptedPolicyServer.Answer("REJECT not from here") : ScriptedPolicyServer.Answer("DUNNO"));
        _h.Home.WriteControl("policy", policy.Endpoint + " stages=connect\n");
        var r = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=192.0.2.66 NAME=client.example\r\nEHLO proxy.example\r\nQUIT\r\n", env: Allowed);
        const string refusal = "554 5.7.1 <client.example[192.0.2.66]>: Client host rejected: not from here\r\n";
        r.Out.Should().EndWith("250 XCLIENT ADDR NAME PORT HELO LOGIN PROTO\r\n" + refusal + refusal + "221 2.0.0 mx.example\r\n");
        policy.Requests.Select(q => q["protocol_state"] + " " + q["client_address"] + " " + q["client_name"])
            .Should().Equal("CONNECT 127.0.0.1 unknown", "CONNECT 192.0.2.66 client.example");
    }

    [Theory, ForEachDriver]
    public void Milters_hear_the_proxy_end_and_a_new_connect_for_the_client(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        _h.Home.WriteControl("milters", milter.Socket + "\n");
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var r = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=192.0.2.7 NAME=client.example\r\nEHLO proxy.example\r\n" +
                                "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n", env: Allowed);
        r.Out.Should().Contain("\r\n354 ").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        var connections = milter.Seen;
        connections.Should().HaveCount(2, "a new milter connection for the new client");
        Text(connections[0].First(p => p.Code == P.Connect).Data).Should().Be("[127.0.0.1]\0" + "4\0\0" + "127.0.0.1\0");
        Text(connections[1].First(p => p.Code == P.Connect).Data).Should().Be("client.example\0" + "4\0\0" + "192.0.2.7\0");
        new string(connections[0].Where(p => p.Code != P.Macro).Select(p => (char)p.Code).ToArray()).Should().StartWith("OCH");
        var helo = connections[1].Where(p => p.Code == P.Helo).Should().ContainSingle().Subject;
        Text(helo.Data).Should().Be("proxy.example\0");
        connections[1].Where(p => p.Code == P.Macro).Select(p => Text(p.Data)).Should().Contain(m => m.Contains("{client_addr}\0192.0.2.7\0"));
    }

    [Theory, ForEachDriver]
    public void ADDR_UNAVAILABLE_makes_the_address_unknown(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = _dir["spp-seen"];
        SppPlugin("mark", $"echo \"${{TCPREMOTEIP-unset}} ${{TCPREMOTEPORT-unset}}\" >> '{seen}'");
        _h.Home.WriteControl("smtpplugins", "[connection]\nplugins/mark\n[mail]\nplugins/mark\n");
        var r = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=[UNAVAILABLE] NAME=[UNAVAILABLE] PORT=[UNAVAILABLE] HELO=client.example\r\n" +
                                "EHLO proxy.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\n" +
                                "DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
            env: new Dictionary<string, string?> { ["XCLIENT"] = "", ["TCPREMOTEPORT"] = "4000" });
        r.Out.Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        File.ReadAllText(seen).Should().Be("127.0.0.1 4000\nunset unset\nunset unset\n");
        SmtpdHome.S(_h.Queued().Should().ContainSingle().Subject.Message)
            .Should().Contain("Received: from unknown (HELO client.example) (unknown)\n  by mx.example with ESMTP; ");
        r.Err.Should().Contain("jsmail-smtpd: unknown: client facts set by a plugin's verb from 127.0.0.1: addr=(none) name=(none) port=(none)");
    }

    private const string Rules = "127.0.0.1:allow,XCLIENT=\"\",RELAYCLIENT=\"\",DATABYTES=\"50000\"\n" +
                                 "198.51.100.4:allow,RELAYCLIENT=\"\",DATABYTES=\"1000\"\n" +
                                 "198.51.100.66:deny\n" +
                                 ":allow\n";

    private const string RelayTo = "EHLO proxy.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<b@elsewhere.example>\r\nRSET\r\n";
    private const string Again = "\r\n220 mx.example ESMTP\r\n";

    /// <summary>
    /// 198.51.100.4's rule (RELAYCLIENT, DATABYTES) applies to it, and not the
    /// proxy's (nor its XCLIENT); an address with only ':allow' relays by
    /// rcpthosts alone; a denied one ends the session.
    /// </summary>
    private static void RulesApply(Func<string, string> talk)
    {
        var known = talk(RelayTo + "XCLIENT ADDR=198.51.100.4\r\n" + RelayTo + "XCLIENT ADDR=198.51.100.5\r\nQUIT\r\n").Split(Again);
        known.Should().HaveCount(2);
        known[0].Should().Contain("250-SIZE 50000\r\n").And.Contain("250 XCLIENT").And.Contain("250 2.1.5 ok");
        known[1].Should().Contain("250-SIZE 1000\r\n").And.NotContain("XCLIENT ADDR").And.Contain("250 2.1.5 ok",
            "198.51.100.4's own rule lets it relay");
        known[1].Should().EndWith("550 5.7.0 insufficient authorization\r\n221 2.0.0 mx.example\r\n", "its rule does not allow XCLIENT");
        var other = talk("EHLO proxy.example\r\nXCLIENT ADDR=198.51.100.5\r\n" + RelayTo + "QUIT\r\n").Split(Again);
        other.Should().HaveCount(2);
        other[1].Should().Contain("250-SIZE\r\n").And.Contain("553 5.7.1 sorry, that domain isn't in my list",
            "the proxy's RELAYCLIENT and DATABYTES are not passed on, and ':allow' sets none");
        talk("EHLO proxy.example\r\nXCLIENT ADDR=198.51.100.66\r\nNOOP\r\n").Should().EndWith("\r\n554 5.7.1 the rules refuse this client\r\n",
            "the rules deny it: the session ends, NOOP gets no reply");
    }

    [Fact]
    public void In_server_mode_the_rules_are_looked_up_again_for_the_new_address()
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        using var server = new ServerModeServer(_h.Home.Path, _dir.Path, rules: Rules);
        RulesApply(server.Talk);
        server.WaitForLog("rules: rule \"198.51.100.66\" denies the client").Should().BeTrue(server.Log);
    }

    /// <summary>Under tcpserver the operator names the rules CDB in JSMAIL_RULES: the same lookups, the same results.</summary>
    [Fact]
    public void Per_connection_the_rules_JSMAIL_RULES_names_are_looked_up_again()
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var cdb = ServerModeServer.CompileRules(Rules, _dir.Path);
        // what tcpserver -x with these rules gives the proxy, and the variable naming the rules
        var env = SmtpdHome.BaseEnvironment(compat: false);
        env["XCLIENT"] = "";
        env["RELAYCLIENT"] = "";
        env["DATABYTES"] = "50000";
        env["JSMAIL_RULES"] = cdb;
        RulesApply(conversation => Run.Process(_h.Home.Bin("qmail-smtpd"), [], Encoding.ASCII.GetBytes(conversation), env, timeoutMs: 30_000).Out);
    }

    [Fact]
    public void Per_connection_without_JSMAIL_RULES_the_proxys_other_variables_stay()
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var env = SmtpdHome.BaseEnvironment(compat: false);
        env["XCLIENT"] = "";
        env["DATABYTES"] = "50000";
        var r = Run.Process(_h.Home.Bin("qmail-smtpd"), [], Encoding.ASCII.GetBytes("EHLO proxy.example\r\nXCLIENT ADDR=198.51.100.4\r\nEHLO proxy.example\r\nQUIT\r\n"),
            env, timeoutMs: 30_000);
        r.Out.Split(Again).Should().HaveCount(2).And.Subject.Last().Should().Contain("250-SIZE 50000\r\n").And.Contain("250 XCLIENT");
    }
}
