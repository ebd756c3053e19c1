using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// MTA-STS (RFC 8461) on both delivery paths, against real servers on
/// loopback: dnsmasq publishes the <c>_mta-sts</c> TXT records, the MX
/// records and the addresses; <see cref="PolicyHost"/> (Python's http.server
/// under TLS, peers/mta_sts_https.py) serves the policies on 127.0.0.91:443
/// with a certificate from a test CA, which jsmail-remote trusts through
/// SSL_CERT_FILE; scripted SMTP peers listen on port 25 of 127.0.0.92-95.
/// Ports below 1024: the tests run as root, as CI does.
/// </summary>
public sealed class MtaStsTests : IDisposable
{
    private const string PolicyIp = "127.0.0.91", GoodMx = "127.0.0.92", RogueMx = "127.0.0.93", BadCertMx = "127.0.0.94", TestingMx = "127.0.0.95";
    private static readonly Lazy<MtaStsCertificates> s_certs = new(() => new MtaStsCertificates());
    private static MtaStsCertificates Certs => s_certs.Value;

    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-mtasts");
    private readonly List<IDisposable> _servers = [];
    private DnsServer _dns;

    private const string StartTls = "250-stub\r\n250 STARTTLS";

    public MtaStsTests()
    {
        Policy("enforce.test", "version: STSv1\nmode: enforce\nmx: *.enforce.test\nmax_age: 86400\n");
        Policy("outside.test", "version: STSv1\r\nmode: enforce\r\nmx: mx.outside.test\r\nmax_age: 86400\r\n");
        Policy("badcert.test", "version: STSv1\nmode: enforce\nmx: mx.badcert.test\nmax_age: 86400\n");
        Policy("testing.test", "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n");
        // Policies the fetch must not take (FetchRules): each names only mx.<domain>, which has no MX record.
        foreach (var d in FetchRules.Select(r => (string)r[0]))
            Policy(d, $"version: STSv1\nmode: enforce\nmx: mx.{d}\nmax_age: 86400\n");
        File.WriteAllText(_dir["www/mta-sts.redirect.test/.well-known/mta-sts.txt.redirect"], "https://mta-sts.enforce.test/.well-known/mta-sts.txt");
        File.WriteAllText(_dir["www/mta-sts.html.test/.well-known/mta-sts.txt.type"], "text/html");
        File.AppendAllText(_dir["www/mta-sts.big.test/.well-known/mta-sts.txt"], "comment: " + new string('x', 70_000) + "\n");
        Policy("invalid.test", "version: STSv1\nmode: sometimes\nmx: mx.invalid.test\nmax_age: 86400\n");
        _dns = Dns("1");
        _home.WriteControl("timeoutconnect", "5\n");
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        _dns.Dispose();
        _home.Dispose();
        _dir.Dispose();
    }

    private void Policy(string domain, string text)
    {
        Directory.CreateDirectory(_dir[$"www/mta-sts.{domain}/.well-known"]);
        File.WriteAllText(_dir[$"www/mta-sts.{domain}/.well-known/mta-sts.txt"], text);
    }

    /// <summary>A fresh dnsmasq whose TXT records carry <paramref name="id"/> for enforce.test (the others keep theirs).</summary>
    private DnsServer Dns(string id)
    {
        var dns = new DnsServer([
            $"txt-record=_mta-sts.enforce.test,\"v=STSv1; id={id}\"",
            "txt-record=_mta-sts.outside.test,\"v=STSv1; id=o1;\"",
            "txt-record=_mta-sts.badcert.test,\"v=STSv1; id=b1\"",
            "txt-record=_mta-sts.testing.test,\"v=STSv1; id=t1\"",
            $"host-record=mta-sts.enforce.test,{PolicyIp}", $"host-record=mta-sts.outside.test,{PolicyIp}",
            $"host-record=mta-sts.badcert.test,{PolicyIp}", $"host-record=mta-sts.testing.test,{PolicyIp}",
            // The rogue exchanger has the better preference: only the policy keeps mail from it.
            "mx-host=enforce.test,mx.enforce.test,10", "mx-host=enforce.test,rogue.elsewhere.test,5",
            $"host-record=mx.enforce.test,{GoodMx}", $"host-record=rogue.elsewhere.test,{RogueMx}",
            "mx-host=outside.test,rogue.elsewhere.test,10",
            "mx-host=badcert.test,mx.badcert.test,10", $"host-record=mx.badcert.test,{BadCertMx}",
            "mx-host=testing.test,mx.testing.test,10", $"host-record=mx.testing.test,{TestingMx}", "mx-host=testing.test,rogue.elsewhere.test,20",
            .. FetchRules.SelectMany(r => new[]
            {
                $"txt-record=_mta-sts.{r[0]},\"v=STSv1; id=f1\"", $"host-record=mta-sts.{r[0]},{PolicyIp}",
                $"mx-host={r[0]},rogue.elsewhere.test,10",
            })]);
        _home.WriteControl("dnsresolvers", $"127.0.0.1:{dns.Port}\n");
        return dns;
    }

    private PolicyHost StartPolicyHost()
    {
        var host = new PolicyHost(_dir["www"], Certs.PolicyHost, _dir["https.log"]);
        _servers.Add(host);
        return host;
    }

    private StubPeer Peer(string ip, JsonObject config)
    {
        config.TryAdd("connections", 10);
        var peer = new StubPeer(ip, 25, config);
        _servers.Add(peer);
        return peer;
    }

    private StubPeer GoodPeer(int connections = 10) =>
        Peer(GoodMx, new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = Certs.Mx, ["connections"] = connections });
    private StubPeer RoguePeer() => Peer(RogueMx, new JsonObject());

    private string[] PolicyRequests() => File.Exists(_dir["https.log"]) ? File.ReadAllLines(_dir["https.log"]) : [];

    /// <summary>jsmail-remote for one recipient at <paramref name="domain"/>: (report with NULs as '|', stderr).</summary>
    private (string Report, string Log) Remote(string domain, bool compat = false)
    {
        File.WriteAllText(_dir["msg"], "Subject: sts\n\nbody\n");
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote"), domain, "a@b.test", "c@" + domain],
            env: new Dictionary<string, string?>
            {
                ["MSG"] = _dir["msg"], ["SSL_CERT_FILE"] = Certs.CaFile, ["JSMAIL_COMPAT"] = compat ? "qmail" : null,
            }, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return (Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|'), Encoding.UTF8.GetString(r.Stderr));
    }

    private static string Accepted(string ip) => $"r|K{ip} accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    [Fact]
    public void Enforce_skips_an_exchanger_outside_the_policy_and_delivers_over_verified_tls()
    {
        StartPolicyHost();
        var good = GoodPeer(connections: 1);
        RoguePeer();
        Remote("enforce.test").Report.Should().Be(Accepted(GoodMx), "the rogue exchanger (preference 5, accepting) is not in the policy");
        PolicyRequests().Should().Equal("mta-sts.enforce.test /.well-known/mta-sts.txt");
        var transcript = good.Transcript.ToList();
        transcript.Should().Contain("TLS").And.Contain("C: MAIL FROM:<a@b.test>");
        transcript.IndexOf("TLS").Should().BeLessThan(transcript.IndexOf("C: MAIL FROM:<a@b.test>"), "the message went under TLS");
    }

    [Fact]
    public void Without_the_policy_the_rogue_exchanger_gets_the_mail()
    {
        // The counter-proof of the test above: the same DNS without MTA-STS (switched off, or compat mode).
        StartPolicyHost();
        GoodPeer();
        RoguePeer();
        _home.WriteControl("remotedisable", "MTASTS\n");
        Remote("enforce.test").Report.Should().Be(Accepted(RogueMx));
        Remote("enforce.test", compat: true).Report.Should().Be(Accepted(RogueMx));
        PolicyRequests().Should().BeEmpty();
        _home.WriteControl("remotedisable", "");
        _home.WriteControl("tlsdestinations", "enforce.test:opportunistic\n");
        Remote("enforce.test").Report.Should().Be(Accepted(RogueMx), "control/tlsdestinations naming the domain overrides its policy");
        PolicyRequests().Should().BeEmpty();
    }

    [Fact]
    public void Enforce_with_no_exchanger_in_the_policy_is_deferred()
    {
        StartPolicyHost();
        RoguePeer();
        Remote("outside.test").Report.Should().Be(
            "ZSorry, the MTA-STS policy of outside.test (mode enforce) names none of its mail exchangers (rogue.elsewhere.test). (#4.7.0)\n|");
    }

    [Theory]
    [InlineData("elsewhere", "certificate does not name mx.badcert.test")]
    [InlineData("stranger", "certificate does not verify (UntrustedRoot)")]
    public void Enforce_defers_a_peer_whose_certificate_does_not_verify_and_sends_it_nothing(string certificate, string why)
    {
        StartPolicyHost();
        var cert = certificate == "elsewhere" ? Certs.Elsewhere : Certs.Stranger;
        var peer = Peer(BadCertMx, new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = cert, ["connections"] = 1 });
        Remote("badcert.test").Report.Should().Be(
            $"ZConnected to {BadCertMx} but the TLS handshake failed: {why}; " +
            "the MTA-STS policy of badcert.test requires a certificate that verifies for mx.badcert.test. (#4.7.0)\n|");
        peer.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public void Enforce_defers_a_peer_without_starttls()
    {
        StartPolicyHost();
        var peer = Peer(BadCertMx, new JsonObject { ["connections"] = 1 });
        Remote("badcert.test").Report.Should().Be(
            $"ZConnected to {BadCertMx} but it does not offer STARTTLS, which the MTA-STS policy of badcert.test requires. (#4.7.0)\n|");
        peer.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public void Testing_delivers_as_usual_and_logs_what_enforce_would_refuse()
    {
        StartPolicyHost();
        var peer = Peer(TestingMx, new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = Certs.Elsewhere, ["connections"] = 1 });
        var (report, log) = Remote("testing.test");
        report.Should().Be(Accepted(TestingMx), "the report is the one without a policy");
        log.Should().Contain("jsmail-remote: MTA-STS testing for testing.test: certificate does not name mx.testing.test (mx.testing.test); enforce would not deliver there\n")
            .And.Contain("jsmail-remote: MTA-STS testing for testing.test: rogue.elsewhere.test matches no mx of the policy; enforce would not use it\n");
        peer.Transcript.Should().Contain("C: MAIL FROM:<a@b.test>");
    }

    /// <summary>TLS reporting (RFC 8460, docs/tls-reporting.md) of sessions under MTA-STS policies, read back from jsmail-tlsrpt's reports.</summary>
    [Fact]
    public void Sessions_under_a_policy_are_reported_with_its_lines_and_the_result_types_of_rfc_8460()
    {
        StartPolicyHost();
        GoodPeer(connections: 1);
        Remote("enforce.test").Report.Should().Be(Accepted(GoodMx));
        foreach (var cert in new[] { Certs.Elsewhere, Certs.Stranger })
        {
            var peer = Peer(BadCertMx, new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = cert, ["connections"] = 1 });
            Remote("badcert.test").Report.Should().StartWith($"ZConnected to {BadCertMx} but the TLS handshake failed");
            peer.Clients.Should().ContainSingle();
        }
        Peer(TestingMx, new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = Certs.Elsewhere, ["connections"] = 1 });
        Remote("testing.test").Report.Should().Be(Accepted(TestingMx), "testing delivers, and reports what enforce would refuse");
        var day = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var r = Run.Process(_home.Bin("jsmail-tlsrpt"), ["--day", day, "--no-mail"], env: new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = null });
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        JsonObject Policy(string domain)
        {
            var file = Directory.GetFiles(_home.Queue("tlsrpt/reports"), $"*!{domain}!*.json.gz").Should().ContainSingle().Subject;
            ReportSchema.Problems(file).Should().BeEmpty();
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress);
            return JsonNode.Parse(gz)!["policies"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        }
        static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        static (string, int)[] Failures(JsonObject p) =>
            p["failure-details"]?.AsArray().Select(d => (d!["result-type"]!.GetValue<string>(), d["failed-session-count"]!.GetValue<int>())).Order().ToArray() ?? [];

        var enforce = Policy("enforce.test");
        enforce["policy"]!["policy-type"]!.GetValue<string>().Should().Be("sts");
        Strings(enforce["policy"]!["policy-string"]).Should().Equal("version: STSv1", "mode: enforce", "mx: *.enforce.test", "max_age: 86400");
        Strings(enforce["policy"]!["mx-host"]).Should().Equal("*.enforce.test");
        enforce["summary"]!["total-successful-session-count"]!.GetValue<int>().Should().Be(1);
        Failures(enforce).Should().BeEmpty();

        var badcert = Policy("badcert.test");
        badcert["summary"]!["total-failure-session-count"]!.GetValue<int>().Should().Be(2);
        Failures(badcert).Should().Equal(("certificate-host-mismatch", 1), ("certificate-not-trusted", 1));

        var testing = Policy("testing.test");
        Strings(testing["policy"]!["policy-string"]).Should().Contain("mode: testing");
        testing["summary"]!["total-successful-session-count"]!.GetValue<int>().Should().Be(0);
        Failures(testing).Should().Equal(("certificate-host-mismatch", 1));
    }

    [Fact]
    public void The_cache_outlives_the_process_and_is_refreshed_when_the_id_changes()
    {
        var https = StartPolicyHost();
        GoodPeer();
        RoguePeer();
        Remote("enforce.test").Report.Should().Be(Accepted(GoodMx));
        Remote("enforce.test").Report.Should().Be(Accepted(GoodMx));
        PolicyRequests().Should().HaveCount(1, "the second process used the cached policy");
        File.ReadAllText(_home.Queue("mta-sts/enforce.test")).Should().StartWith("jsmail-mta-sts 1\nid 1\nexpires ");

        _dns.Dispose();
        _dns = Dns("2");
        Remote("enforce.test").Report.Should().Be(Accepted(GoodMx));
        PolicyRequests().Should().HaveCount(2, "a new id means a new policy to fetch");
        File.ReadAllText(_home.Queue("mta-sts/enforce.test")).Should().StartWith("jsmail-mta-sts 1\nid 2\n");

        // RFC 8461 §5.1: a fetch that fails keeps the unexpired cached policy in force.
        https.Dispose();
        _dns.Dispose();
        _dns = Dns("3");
        var (report, log) = Remote("enforce.test");
        report.Should().Be(Accepted(GoodMx), "the rogue exchanger is still refused");
        log.Should().Contain("jsmail-remote: MTA-STS for enforce.test: fetching https://mta-sts.enforce.test/.well-known/mta-sts.txt failed: ")
            .And.Contain("; the cached policy stays in force\n");
    }

    /// <summary>Domains whose policy host breaks a rule of RFC 8461 §3.3, the log's words for it, and TLS reporting's result type (RFC 8460 §4.3.2.2).</summary>
    public static TheoryData<string, string, string> FetchRules => new()
    {
        { "redirect.test", "https://mta-sts.redirect.test/ answered HTTP 301 (a redirect, which MTA-STS does not follow)", "sts-policy-fetch-error" },
        { "html.test", "https://mta-sts.html.test/ served the policy as text/html, not text/plain", "sts-policy-fetch-error" },
        { "big.test", "the policy at mta-sts.big.test is over 65536 bytes", "sts-policy-fetch-error" },
        { "unnamed.test", "the policy host's certificate is not good: certificate does not name mta-sts.unnamed.test", "sts-webpki-invalid" },
        { "invalid.test", "the policy is not valid: mode is not enforce, testing or none", "sts-policy-invalid" },
    };

    [Theory, MemberData(nameof(FetchRules))]
    public void A_policy_fetched_against_the_rules_is_no_policy(string domain, string why, string resultType)
    {
        StartPolicyHost();
        RoguePeer();
        var (report, log) = Remote(domain);
        report.Should().Be(Accepted(RogueMx), "without a policy the only exchanger is used");
        log.Should().Contain($"jsmail-remote: MTA-STS for {domain}: {why}").And.EndWith("; no policy applies\n");
        Directory.GetFiles(_home.Queue("mta-sts")).Should().BeEmpty("nothing is cached");
        // TLS reporting: the policy failure, then the session made without a policy (the rogue exchanger offers no STARTTLS).
        var recorded = File.ReadAllLines(Directory.GetFiles(_home.Queue("tlsrpt")).Should().ContainSingle().Subject)
            .Select(l => JsonNode.Parse(l)!).Select(j => (j["policy-type"]!.GetValue<string>(), j["result-type"]!.GetValue<string>()));
        recorded.Should().Equal(("sts", resultType), ("no-policy-found", "starttls-not-supported"));
    }

    [Fact]
    public void The_pooled_rspawn_enforces_the_policy()
    {
        StartPolicyHost();
        GoodPeer();
        RoguePeer();
        File.WriteAllText(_home.Queue("mess/0/500"), "Subject: pooled\n\nbody\n");
        File.WriteAllText(_home.Queue("mess/0/501"), "Subject: pooled\n\nbody\n");
        File.WriteAllBytes(_dir["commands"], [.. Encoding.Latin1.GetBytes("\u0001" + "0/500\0s@x\0u@enforce.test\0"), .. Encoding.Latin1.GetBytes("\u0002" + "0/501\0s@x\0v@outside.test\0")]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?>
            {
                ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["SSL_CERT_FILE"] = Certs.CaFile, ["JSMAIL_COMPAT"] = null, ["QMAILREMOTE"] = null,
            }, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        var output = Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
        output.Should().Contain("\u0001" + Accepted(GoodMx)[2..]);
        output.Should().Contain("\u0002ZSorry, the MTA-STS policy of outside.test (mode enforce) names none of its mail exchangers (rogue.elsewhere.test). (#4.7.0)\n|");
        PolicyRequests().Should().BeEquivalentTo("mta-sts.enforce.test /.well-known/mta-sts.txt", "mta-sts.outside.test /.well-known/mta-sts.txt");
    }
}

/// <summary>peers/mta_sts_https.py on 127.0.0.91:443: serves ROOT/HOST/PATH over TLS, logs each request.</summary>
public sealed class PolicyHost : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-policyhost");

    public PolicyHost(string root, (string Cert, string Key) cert, string log)
    {
        var config = new JsonObject
        {
            ["listen"] = new JsonArray("127.0.0.91", 443), ["cert"] = cert.Cert, ["key"] = cert.Key, ["root"] = root,
            ["log"] = log, ["readyfile"] = _dir["ready"], ["timeout"] = 120,
        };
        File.WriteAllText(_dir["config.json"], config.ToJsonString());
        _process = Run.Start("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "peers", "mta_sts_https.py"), _dir["config.json"]],
            redirect: Redirect.Error);
        for (var i = 0; i < 400 && !File.Exists(_dir["ready"]) && !_process.HasExited; i++) Thread.Sleep(25);
        if (!File.Exists(_dir["ready"])) throw new InvalidOperationException("the policy host did not start: " + (_process.HasExited ? _process.StandardError.ReadToEnd() : "no answer"));
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10_000); } } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// A test CA with the certificates of the policy host (every mta-sts.*.test but mta-sts.unnamed.test),
/// a good MX (mx.enforce.test) and a wrong one (elsewhere.test); and a self-signed one for mx.badcert.test.
/// </summary>
public sealed class MtaStsCertificates
{
    private readonly TempDir _dir = new("jsmail-mtasts-certs");
    public string CaFile => _dir["ca.pem"];
    public (string, string) PolicyHost => (_dir["policy.pem"], _dir["policy.key"]);
    public JsonArray Mx => new(_dir["mx.pem"], _dir["mx.key"]);
    public JsonArray Elsewhere => new(_dir["elsewhere.pem"], _dir["elsewhere.key"]);
    /// <summary>Names mx.badcert.test, but from a CA nobody trusts.</summary>
    public JsonArray Stranger => new(_dir["stranger.pem"], _dir["stranger.key"]);

    public MtaStsCertificates()
    {
        var r = Run.Shell("""
            set -e
            cd "$1"
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jsmail mta-sts test ca" \
              -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
            make() { # name SAN
              openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout $1.key -out $1.csr 2>/dev/null
              printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" > $1.ext
              openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem 2>/dev/null
            }
            make policy DNS:mta-sts.enforce.test,DNS:mta-sts.outside.test,DNS:mta-sts.badcert.test,DNS:mta-sts.testing.test,DNS:mta-sts.redirect.test,DNS:mta-sts.html.test,DNS:mta-sts.big.test,DNS:mta-sts.invalid.test
            make mx DNS:mx.enforce.test
            make elsewhere DNS:elsewhere.test
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.badcert.test" -addext subjectAltName=DNS:mx.badcert.test \
              -keyout stranger.key -out stranger.pem 2>/dev/null
            """, args: _dir.Path);
        if (r.ExitCode != 0) throw new InvalidOperationException("openssl: " + Encoding.UTF8.GetString(r.Stderr));
    }
}
