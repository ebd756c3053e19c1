using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// XCLIENT through the shipped plugin (plugins/xclient.c, built with cc as an
/// operator builds it) and ABI version 2 beneath it: allowed by the rules'
/// XCLIENT variable (the environment tcpserver gives, server mode's rules
/// CDB), it changes what check programs see, the Received line and the log;
/// refused otherwise; and a plugin built for version 1 still loads beside it.
/// </summary>
public sealed class XclientPluginTests : IDisposable
{
    private readonly SmtpdHome _h = new();
    private readonly TempDir _dir = new("jsmail-xclient");

    public void Dispose()
    {
        _h.Dispose();
        _dir.Dispose();
    }

    private static readonly TempDir Built = new("jsmail-xclient-built");
    private static readonly Lazy<string> XclientLibrary = new(() => Cc("xclient.so", "xclient.c"));
    /// <summary>mt-priority.c built for ABI version 1, as a plugin made before version 2 was.</summary>
    private static readonly Lazy<string> VersionOneLibrary = new(() => Cc("mt-priority-v1.so", "mt-priority.c", "-DJSMAIL_PLUGIN_ABI_VERSION=1u"));

    private static string Cc(string output, string source, params string[] extra)
    {
        var path = Built[output];
        var r = Run.Process("cc", [.. extra, "-shared", "-fPIC", "-O2", "-I", Path.Combine(Repo.Root, "include"), "-o", path,
            Path.Combine(Repo.Root, "plugins", source)], timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        return path;
    }

    /// <summary>The check program: one line a stage with the client facts it was started with, and what came on fd 3.</summary>
    private string InstallCheck()
    {
        var seen = _dir["seen"];
        var prog = _dir["check"];
        File.WriteAllText(prog, $$"""
            #!/bin/sh
            input=$(tr '\0' '|' <&3)
            case "$TCPREMOTEPORT" in 4242) port=4242 ;; *) port=other ;; esac
            echo "$SMTPCHECK ip=$TCPREMOTEIP host=${TCPREMOTEHOST-unset} port=$port user=${SMTPAUTHUSER-none} relay=${RELAYCLIENT+set} $input" >> '{{seen}}'
            exit 0

            """);
        File.SetUnixFileMode(prog, (UnixFileMode)0x1ED);
        _h.Home.WriteControl("smtpcheck", prog + "\n");
        return seen;
    }

    private const string Ehlo = "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n250-ENHANCEDSTATUSCODES\r\n" +
                                "250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-LIMITS RCPTMAX=100\r\n";
    private const string Offered = "250 XCLIENT ADDR NAME PORT HELO LOGIN PROTO\r\n";

    /// <summary>
    /// The EHLO reply after XCLIENT: in server mode the rules are looked up
    /// again for the new address, and the test's rules give XCLIENT to
    /// 127.0.0.1 alone; the per-connection program, without JSMAIL_RULES,
    /// keeps what tcpserver gave.
    /// </summary>
    private static string EhloAfter(SmtpdDriver driver) => driver == SmtpdDriver.Server ? Ehlo.Replace("250-LIMITS", "250 LIMITS") : Ehlo + Offered;

    /// <summary>What tcprules gives the proxy: leave to use XCLIENT, and (to show it is not passed on) the right to relay.</summary>
    private static readonly Dictionary<string, string?> Allowed = new() { ["XCLIENT"] = "", ["RELAYCLIENT"] = "" };

    [Theory, ForEachDriver]
    public void From_an_allowed_client_XCLIENT_sets_what_check_programs_the_Received_line_and_the_log_see(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = InstallCheck();
        var r = _h.Talk(driver, "EHLO proxy.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nRSET\r\n" +
                                "XCLIENT ADDR=192.0.2.7 NAME=client.example PORT=4242 HELO=real+2Ehelo.example LOGIN=alice\r\n" +
                                "EHLO proxy.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<b@elsewhere.example>\r\n" +
                                "DATA\r\nSubject: via a proxy\r\n\r\nbody\r\n.\r\nQUIT\r\n", env: Allowed);
        r.Out.Should().MatchRegex("^" + Regex(
            "220 mx.example ESMTP\r\n" + Ehlo + Offered + "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.0.0 flushed\r\n" +
            "220 mx.example ESMTP\r\n" + EhloAfter(driver) + "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n") +
            "250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        File.ReadAllText(seen).Should().Be(
            "helo ip=127.0.0.1 host=unset port=other user=none relay=set proxy.example||||\n" +
            "mail ip=127.0.0.1 host=unset port=other user=none relay=set proxy.example|s@x.example|||\n" +
            "rcpt ip=127.0.0.1 host=unset port=other user=none relay=set proxy.example|s@x.example|a@example.com||\n" +
            "helo ip=192.0.2.7 host=client.example port=4242 user=alice relay= real.helo.example||||\n" +
            "mail ip=192.0.2.7 host=client.example port=4242 user=alice relay= real.helo.example|s@x.example|||\n" +
            "rcpt ip=192.0.2.7 host=client.example port=4242 user=alice relay= real.helo.example|s@x.example|b@elsewhere.example||\n",
            "the check program starts with the facts XCLIENT set; the proxy's RELAYCLIENT is not the client's");
        var message = SmtpdHome.S(_h.Queued().Should().ContainSingle().Subject.Message);
        message.Should().Contain("Received: from client.example (HELO real.helo.example) (192.0.2.7)\n  by mx.example with ESMTPA; ");
        r.Err.Should().Contain("jsmail-smtpd: 192.0.2.7: client facts set by a plugin's verb from 127.0.0.1: " +
                               "addr=192.0.2.7 name=client.example port=4242 helo=real.helo.example login=alice");
    }

    [Theory, ForEachDriver]
    public void From_a_client_the_rules_do_not_allow_XCLIENT_is_neither_offered_nor_taken(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = InstallCheck();
        var r = _h.Talk(driver, "EHLO proxy.example\r\nXCLIENT ADDR=192.0.2.7 NAME=client.example\r\n" +
                                "MAIL FROM:<s@x.example>\r\nQUIT\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n" + Ehlo.Replace("250-LIMITS", "250 LIMITS") +
                          "550 5.7.0 insufficient authorization\r\n250 2.1.0 ok\r\n221 2.0.0 mx.example\r\n");
        File.ReadAllText(seen).Should().Be("helo ip=127.0.0.1 host=unset port=other user=none relay= proxy.example||||\n" +
                                           "mail ip=127.0.0.1 host=unset port=other user=none relay= proxy.example|s@x.example|||\n");
        r.Err.Should().NotContain("client facts set");
    }

    [Theory, ForEachDriver]
    public void Inside_a_transaction_503_and_bad_syntax_501_and_neither_changes_anything(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = InstallCheck();
        var r = _h.Talk(driver, "EHLO proxy.example\r\nMAIL FROM:<s@x.example>\r\nXCLIENT ADDR=192.0.2.7\r\nRSET\r\n" +
                                "XCLIENT\r\nXCLIENT ADDR\r\nXCLIENT ADDR=not.an.address\r\nXCLIENT ADDR=10.1\r\nXCLIENT DESTADDR=192.0.2.1\r\n" +
                                "XCLIENT ADDR=192.0.2.7 NAME=bad+2\r\nXCLIENT ADDR=192.0.2.7 PORT=70000\r\nXCLIENT ADDR=192.0.2.7 HELO=a+20b\r\n" +
                                "MAIL FROM:<s@x.example>\r\nQUIT\r\n", env: new Dictionary<string, string?> { ["XCLIENT"] = "" });
        r.Out.Should().Be("220 mx.example ESMTP\r\n" + Ehlo + Offered + "250 2.1.0 ok\r\n" +
                          "503 5.5.1 mail transaction in progress\r\n250 2.0.0 flushed\r\n" +
                          "501 5.5.4 syntax: XCLIENT attribute=value ...\r\n" +
                          "501 5.5.4 attribute=value expected: ADDR\r\n" +
                          "501 5.5.4 bad value of ADDR\r\n" +
                          "501 5.5.4 bad value of ADDR\r\n" +
                          "501 5.5.4 bad XCLIENT attribute name: DESTADDR\r\n" +
                          "501 5.5.4 bad xtext in the value of NAME\r\n" +
                          "501 5.5.4 bad value of PORT\r\n" +
                          "501 5.5.4 bad value of HELO\r\n" +
                          "250 2.1.0 ok\r\n221 2.0.0 mx.example\r\n");
        File.ReadAllText(seen).Should().EndWith("mail ip=127.0.0.1 host=unset port=other user=none relay= proxy.example|s@x.example|||\n",
            "a refused XCLIENT changes nothing, not even the attributes before the bad one");
    }

    [Theory, ForEachDriver]
    public void XCLIENT_accepts_IPv6_unknown_names_and_PROTO_and_the_next_HELO_counts_when_none_was_given(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var seen = InstallCheck();
        var r = _h.Talk(driver, "HELO proxy.example\r\nXCLIENT ADDR=IPV6:2001:DB8::7 NAME=[TEMPUNAVAIL] HELO=[UNAVAILABLE] PROTO=smtp\r\n" +
                                "EHLO client.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\n" +
                                "DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
            env: new Dictionary<string, string?> { ["XCLIENT"] = "", ["TCPREMOTEHOST"] = "proxy.example" });
        r.Out.Should().StartWith("220 mx.example ESMTP\r\n250 mx.example\r\n220 mx.example ESMTP\r\n" + EhloAfter(driver));
        File.ReadAllText(seen).Should().EndWith("rcpt ip=2001:db8::7 host=unset port=other user=none relay= client.example|s@x.example|a@example.com||\n");
        SmtpdHome.S(_h.Queued().Should().ContainSingle().Subject.Message)
            .Should().Contain("Received: from unknown (HELO client.example) (2001:db8::7)\n  by mx.example with SMTP; ");
    }

    [Theory, ForEachDriver]
    public void A_plugin_built_for_version_1_still_loads_and_works_beside_a_version_2_plugin(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", $"{VersionOneLibrary.Value} MIXER\n{XclientLibrary.Value}\n");
        var r = _h.Talk(driver, "EHLO proxy.example\r\nMAIL FROM:<s@x.example> MT-PRIORITY=x\r\nMAIL FROM:<s@x.example> MT-PRIORITY=3\r\n" +
                                "RSET\r\nXCLIENT ADDR=192.0.2.7\r\nQUIT\r\n", env: new Dictionary<string, string?> { ["XCLIENT"] = "" });
        r.Out.Should().Be("220 mx.example ESMTP\r\n" + Ehlo + "250-MT-PRIORITY MIXER\r\n" + Offered +
                          "501 5.5.4 MT-PRIORITY wants an integer from -9 to 9\r\n250 2.1.0 ok\r\n250 2.0.0 flushed\r\n" +
                          "220 mx.example ESMTP\r\n221 2.0.0 mx.example\r\n");
    }

    [Theory, ForEachDriver]
    public void Under_qmail_compat_XCLIENT_is_unimplemented(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        var r = _h.Talk(driver, "HELO proxy.example\r\nXCLIENT ADDR=192.0.2.7\r\nQUIT\r\n", compat: true,
            env: new Dictionary<string, string?> { ["XCLIENT"] = "" });
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n502 unimplemented (#5.5.1)\r\n221 mx.example\r\n");
    }

    /// <summary>
    /// swaks's own XCLIENT options against tcpserver (rules compiled by
    /// tcprules) and server mode (the same CDB read in process): the allowed
    /// address's message names the client swaks gave; another rule set refuses.
    /// </summary>
    [Fact]
    public void Swaks_XCLIENT_through_tcpserver_and_server_mode_with_tcprules()
    {
        _h.Home.WriteControl("plugins", XclientLibrary.Value + "\n");
        foreach (var allowed in new[] { true, false })
        {
            // server mode looks the rules up again for the client XCLIENT names: it must be allowed too
            var rules = allowed ? "127.0.0.1:allow,XCLIENT=\"\"\n198.51.100.4:allow\n:deny\n" : "127.0.0.1:allow\n:deny\n";
            var cdb = ServerModeServer.CompileRules(rules, _dir.Path);
            var port = Ports.Free();
            using var tcpserver = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", cdb, "127.0.0.1", port.ToString(), _h.Home.Bin("qmail-smtpd")],
                env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
                redirect: Redirect.Error | Redirect.Output);
            try
            {
                Ports.WaitForListener(port, "tcpserver");
                using var server = new ServerModeServer(_h.Home.Path, _dir[$"server-{allowed}"], rulesCdb: cdb);
                foreach (var p in new[] { port, server.Port })
                {
                    if (allowed)
                    {
                        var r = SwaksClient.Send("127.0.0.1", p, "--to", "a@example.com", "--xclient-addr", "198.51.100.4",
                            "--xclient-name", "client.example", "--xclient-helo", "client.example");
                        r.ExitCode.Should().Be(0, r.Out);
                        r.Out.Should().MatchRegex(" -> XCLIENT .*ADDR=198.51.100.4").And.MatchRegex(" -> XCLIENT .*NAME=client.example");
                        System.Text.RegularExpressions.Regex.Matches(r.Out, "<-  220 mx.example ESMTP").Should().HaveCount(2,
                            "the greeting again after XCLIENT");
                    }
                    else
                    {
                        // swaks sends no XCLIENT a server does not offer: Python's smtplib sends it anyway
                        var r = Run.Process("/usr/bin/python3", ["-c", Unoffered, p.ToString()], timeoutMs: 60_000);
                        r.Out.Should().Be("offered False\n550 b'5.7.0 insufficient authorization'\n", r.Err);
                    }
                }
            }
            finally { tcpserver.Kill(entireProcessTree: true); }
        }
        var received = _h.Queued().Select(q => SmtpdHome.S(q.Message)).ToList();
        received.Should().HaveCount(2).And.OnlyContain(m =>
            m.Contains("Received: from client.example (198.51.100.4)\n  by mx.example with ESMTP; "));
    }

    private const string Unoffered = """
        import smtplib, sys
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)
        s.ehlo('proxy.example')
        print('offered', s.has_extn('xclient'))
        code, text = s.docmd('XCLIENT', 'ADDR=198.51.100.4 NAME=client.example')
        print(code, text)
        s.quit()
        """;

    private static string Regex(string literal) => System.Text.RegularExpressions.Regex.Escape(literal);
}
