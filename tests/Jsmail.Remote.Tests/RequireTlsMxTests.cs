using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// RFC 8689 §4.2.1: an MX host that cannot meet a message's REQUIRETLS is
/// passed over for the next, and only when none is left is the message
/// returned. Two jsmail-smtpd exchangers on port 25 of 127.0.0.81 and .82
/// under the real tcpserver, found through dnsmasq: the first's certificate
/// does not name it, the second's does.
/// </summary>
public sealed class RequireTlsMxTests : IDisposable
{
    private static readonly Lazy<TestCertificates> s_certs = new(() => new TestCertificates());
    private static TestCertificates Certs => s_certs.Value;

    private readonly TestHome _sender = TestHome.Install();
    private readonly TestHome _first = TestHome.Install();
    private readonly TestHome _second = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-requiretls-mx");
    private readonly DnsServer _dns;
    private readonly List<Process> _tcpservers = [];

    public RequireTlsMxTests()
    {
        _dns = new DnsServer("mx-host=fall.test,mx1.fall.test,10", "host-record=mx1.fall.test,127.0.0.81",
            "mx-host=fall.test,elsewhere.test,20", "host-record=elsewhere.test,127.0.0.82");
        _sender.WriteControl("dnsresolvers", $"127.0.0.1:{_dns.Port}\n");
        _sender.WriteControl("tlsdestinations", $"fall.test:verify:{Certs.CaFile}\n");
        Exchanger(_first, "127.0.0.81", "loopback", "first");   // names 127.0.0.1, not mx1.fall.test
        Exchanger(_second, "127.0.0.82", "elsewhere", "second"); // names elsewhere.test
    }

    private void Exchanger(TestHome home, string ip, string certificate, string name)
    {
        home.WriteControl("me", name + ".fall.test\n");
        home.WriteControl("rcpthosts", "fall.test\n");
        var cert = Certs.Server(certificate);
        home.WriteControl("servercert.pem", File.ReadAllText((string)cert[0]!) + File.ReadAllText((string)cert[1]!));
        File.WriteAllText(_dir["run-" + name], $"#!/bin/sh\nexec {home.Bin("qmail-smtpd")} 2>>{_dir["stderr-" + name]}\n");
        File.SetUnixFileMode(_dir["run-" + name], (UnixFileMode)0x1ED);
        _tcpservers.Add(Run.Start("tcpserver", ["-R", "-H", "-l", name + ".fall.test", "-c", "4", ip, "25", _dir["run-" + name]],
            env: new[] { "RELAYCLIENT", "QMAILQUEUE", "JSMAIL_COMPAT", "DATABYTES", "SMTPCHECK", "SUBMISSION" }.ToDictionary(n => n, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output));
        Ports.WaitForListener(System.Net.IPAddress.Parse(ip), 25, "tcpserver");
    }

    public void Dispose()
    {
        foreach (var p in _tcpservers)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(10_000); } }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _dns.Dispose();
        _sender.Dispose();
        _first.Dispose();
        _second.Dispose();
        _dir.Dispose();
    }

    private string Remote()
    {
        File.WriteAllText(_dir["msg"], "Subject: sealed\n\nfor TLS only\n");
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _sender.Bin("qmail-remote"), "fall.test", "a@b.test", "c@fall.test"],
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = null, ["JSMAIL_MAIL_PARAMETERS"] = "REQUIRETLS" },
            timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    [Fact]
    public void The_next_mx_that_meets_it_gets_the_message()
    {
        Remote().Should().MatchRegex(@"^r\|K127\.0\.0\.82 accepted message\.\nRemote host said: 250 2\.0\.0 ok \d+ qp \d+\n\|$");
        _first.Entries("mess").Should().BeEmpty("the first exchanger's certificate does not name it");
        _second.Entries("mess").Should().ContainSingle();
    }

    [Fact]
    public void When_no_mx_meets_it_the_last_ones_report_returns_the_message()
    {
        _second.WriteControl("smtpdisable", "REQUIRETLS\n");
        Remote().Should().Be("DConnected to 127.0.0.82 but it does not support REQUIRETLS, which this message requires. (#5.7.30)\n|");
        _first.Entries("mess").Should().BeEmpty();
        _second.Entries("mess").Should().BeEmpty();
    }
}
