using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// REQUIRETLS (RFC 8689) on the receiving side, for each driver: offered only
/// inside TLS, its MAIL parameter refused outside TLS and kept in the queued
/// envelope extension inside it; switched off by control/smtpdisable and under
/// JSMAIL_COMPAT=qmail. TLS sessions are openssl s_client's, to jsmail-smtpd
/// under the real tcpserver (per connection, handing over to jsmail-smtpd-tls)
/// or to server mode.
/// </summary>
public sealed class RequireTlsTests : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new("jsmail-requiretls");
    private readonly List<Process> _tcpservers = [];
    private readonly List<ServerModeServer> _servers = [];

    private const string Message = "Subject: sealed\r\n\r\nfor TLS only\r\n.\r\n";

    public RequireTlsTests() => SmtpdHome.WriteCertificate(_h.Home.Control("servercert.pem"), _dir["cert"]);

    public void Dispose()
    {
        foreach (var p in _tcpservers)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(10_000); } }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var s in _servers) s.Dispose();
        _h.Dispose();
        _dir.Dispose();
    }

    /// <summary>A port where the driver answers over TCP, so that openssl can start TLS.</summary>
    private int Listen(SmtpdDriver driver)
    {
        const string rules = "127.0.0.1:allow\n:deny\n";
        if (driver == SmtpdDriver.Server)
        {
            var server = new ServerModeServer(_h.Home.Path, _dir.Path, rules);
            _servers.Add(server);
            return server.Port;
        }
        var run = _dir["run"];
        File.WriteAllText(run, $"#!/bin/sh\nexec {_h.Home.Bin("qmail-smtpd")} 2>>{_dir["stderr"]}\n");
        File.SetUnixFileMode(run, (UnixFileMode)0x1ED);
        var port = Ports.Free();
        _tcpservers.Add(Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", ServerModeServer.CompileRules(rules, _dir.Path),
                "-c", "4", "127.0.0.1", port.ToString(), run],
            env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output));
        Ports.WaitForListener(port, "tcpserver");
        return port;
    }

    /// <summary>openssl s_client's STARTTLS (its own EHLO first), then <paramref name="talk"/> inside TLS; what came back inside TLS.</summary>
    private static string OverTls(int port, string talk)
    {
        var r = Run.Process("openssl", ["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + port, "-quiet", "-ign_eof"],
            Encoding.ASCII.GetBytes(talk), timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return r.Out;
    }

    /// <summary>The queued envelope extension blocks (queue/ext), as text.</summary>
    private List<string> Extensions() => _h.Home.Entries("ext").Select(e => SmtpdHome.S(_h.Home.ReadQueueFile(Path.Combine("ext", e)))).ToList();

    [Theory, ForEachDriver]
    public void Without_tls_it_is_not_offered_and_the_parameter_is_refused_with_rfc_3207s_530(SmtpdDriver driver)
    {
        var r = _h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS\r\nMAIL FROM:<s@x>\r\nQUIT\r\n");
        r.Out.Should().Contain("STARTTLS\r\n", "the session could go to TLS").And.NotContain("REQUIRETLS\r\n")
            .And.Contain("\r\n530 5.7.0 must issue a STARTTLS command first: REQUIRETLS needs TLS (#5.7.0)\r\n250 2.1.0 ok\r\n");
        _h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void Inside_tls_it_is_offered_and_the_queued_envelope_keeps_it(SmtpdDriver driver)
    {
        var port = Listen(driver);
        var out_ = OverTls(port, "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS\r\nRCPT TO:<u@example.com>\r\nDATA\r\n" + Message + "QUIT\r\n");
        out_.Should().MatchRegex("\r\n250[- ]REQUIRETLS\r\n");
        out_.Should().Contain("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+\r\n");
        var (todo, message) = _h.Queued().Should().ContainSingle().Subject;
        SmtpdHome.S(todo).Should().EndWith("\0Fs@x\0Tu@example.com\0");
        SmtpdHome.Body(message).Should().Be("Subject: sealed\n\nfor TLS only\n");
        Extensions().Should().Equal(["X1\0MREQUIRETLS\0\0"]);
    }

    [Theory, ForEachDriver]
    public void Inside_tls_a_value_is_a_bad_parameter(SmtpdDriver driver)
    {
        var out_ = OverTls(Listen(driver), "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS=YES\r\nQUIT\r\n");
        out_.Should().Contain("\r\n501 5.5.4 bad parameter value (#5.5.4)\r\n");
    }

    [Theory, ForEachDriver]
    public void Smtpdisable_requiretls_switches_it_off_inside_tls(SmtpdDriver driver)
    {
        _h.Home.WriteControl("smtpdisable", "REQUIRETLS\n");
        var out_ = OverTls(Listen(driver), "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS\r\nMAIL FROM:<s@x>\r\nQUIT\r\n");
        out_.Should().Contain("250 ").And.NotContain("REQUIRETLS\r\n")
            .And.Contain("\r\n555 5.5.4 parameter not recognized (#5.5.4)\r\n250 2.1.0 ok\r\n");
        // and outside TLS it is just as unknown: the 530 is for a server that offers REQUIRETLS
        _h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS\r\nQUIT\r\n").Out
            .Should().Contain("\r\n555 5.5.4 parameter not recognized (#5.5.4)\r\n");
    }

    [Theory, ForEachDriver]
    public void Under_qmail_compatibility_the_parameter_is_ignored_as_qmail_smtpd_ignores_it(SmtpdDriver driver)
    {
        var r = _h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x> REQUIRETLS\r\nRCPT TO:<u@example.com>\r\nDATA\r\n" + Message + "QUIT\r\n", compat: true);
        r.Out.Should().NotContain("REQUIRETLS").And.NotContain("STARTTLS").And.Contain("\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n");
        _h.Queued().Should().ContainSingle();
        Extensions().Should().BeEmpty("qmail's envelope has no parameters");
    }
}
