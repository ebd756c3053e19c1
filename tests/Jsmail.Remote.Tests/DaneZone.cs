using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DnsClient;
using Jsmail.Common.Remote;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// A validating resolver for DANE tests, made fresh for a test class: Debian's
/// unbound on 127.0.0.1 (a free port), run in the foreground from its own
/// configuration in a temporary directory (no system service, no
/// /etc/unbound), serving two zones itself (auth-zone, used as upstream so
/// that its validator judges them): <c>dane.test</c>, signed by ldns-signzone
/// with a key from ldns-keygen, whose DS is unbound's trust anchor; and
/// <c>plain.test</c>, unsigned (no anchor: insecure, never the AD bit).
/// The certificates come from a test CA made with openssl, and the TLSA
/// records are computed from them:
/// <list type="bullet">
/// <item><c>ee.dane.test</c>: MX mx-ee (127.0.0.101), TLSA 3 1 1 of mx-ee's key;</item>
/// <item><c>ta.dane.test</c>: MX mx-ta (127.0.0.102), TLSA 2 0 1 of the CA certificate, the peer sending its chain;</item>
/// <item><c>bad.dane.test</c>: MX mx-bad (127.0.0.103), TLSA 3 1 1 of mx-ee's key while the peer shows another;</item>
/// <item><c>bogus.dane.test</c>: MX mx-bogus (127.0.0.103), whose TLSA record was changed after signing (bogus: SERVFAIL);</item>
/// <item><c>plain.test</c>: MX mx.plain.test (127.0.0.104), with the mismatching TLSA record of bad.dane.test, unsigned;</item>
/// <item><c>insecure.plain.test</c>: an unsigned MX naming mx-bad.dane.test (RFC 7672 §2.2.1).</item>
/// </list>
/// MX hosts that are aliases (RFC 7672 §2.2.2), each with a TLSA record at its
/// original name that would decide otherwise if it were the one used:
/// <list type="bullet">
/// <item><c>alias.dane.test</c>: MX mx-alias, a CNAME to mx-ee (TLSA at the target matches mx-ee's key; at mx-alias, "other"'s);</item>
/// <item><c>origin.dane.test</c>: MX mx-origin, a CNAME to target-origin (127.0.0.102), TLSA 2 0 1 of the CA only at mx-origin; the peer's certificate names target-origin;</item>
/// <item><c>mismatch.dane.test</c>: MX mx-mismatch, a CNAME to mx-bad (TLSA of mx-ee's key; at mx-mismatch, "other"'s, which the peer shows);</item>
/// <item><c>insecure-alias.dane.test</c>: MX mx-insecure-alias, a CNAME to mx2.plain.test (unsigned, 127.0.0.104, a TLSA record that does not match); TLSA of mx-ee's key at mx-insecure-alias.</item>
/// </list>
/// For TLS reporting, <c>rpt.dane.test</c> (MX mx-rpt, 127.0.0.105) and
/// <c>rptbad.dane.test</c> (MX mx-rptbad, 127.0.0.106) have the TLSA records of
/// ee and bad, and TLSRPT records (<c>_smtp._tls</c>) naming <see cref="ReportAddress"/>.
/// </summary>
public sealed class DaneZone : IDisposable
{
    public const string EeMx = "127.0.0.101", TaMx = "127.0.0.102", BadMx = "127.0.0.103", PlainMx = "127.0.0.104";

    /// <summary>TLS reporting's own exchangers (their tests run beside DaneTests, whose peers hold the addresses above).</summary>
    public const string ReportingMx = "127.0.0.105", ReportingBadMx = "127.0.0.106";

    /// <summary>The mailto: address of the TLSRPT records of rpt.dane.test and rptbad.dane.test (RFC 8460 §3).</summary>
    public const string ReportAddress = "tlsrpt@reports.test";

    private readonly TempDir _dir = new("jsmail-dane");
    private readonly Process _unbound;
    public int Port { get; }

    /// <summary>[cert, key] the peers present: "mx-ee", "mx-ta" (with the CA in its chain), "other" (self-signed, for mx-bad).</summary>
    public System.Text.Json.Nodes.JsonArray Certificate(string name) => new(_dir[name + ".pem"], _dir[name + ".key"]);

    public DaneZone()
    {
        var made = Run.Shell("""
            set -e
            cd "$1"
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jsmail dane test ca" \
              -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
            make() { # name
              openssl req -newkey rsa:2048 -nodes -subj "/CN=$1.dane.test" -keyout $1.key -out $1.csr 2>/dev/null
              printf 'subjectAltName=DNS:%s.dane.test\nextendedKeyUsage=serverAuth\n' "$1" > $1.ext
              openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.leaf 2>/dev/null
              cat $1.leaf ca.pem > $1.pem
            }
            make mx-ee
            make mx-ta
            make target-origin
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx-bad.dane.test" -addext subjectAltName=DNS:mx-bad.dane.test \
              -keyout other.key -out other.pem 2>/dev/null
            """, args: _dir.Path);
        if (made.ExitCode != 0) throw new InvalidOperationException("making the certificates: " + made.Err);

        // The TLSA data: SHA-256 of mx-ee's SubjectPublicKeyInfo (3 1 1) and of the CA certificate (2 0 1).
        using var eeCert = X509Certificate2.CreateFromPem(File.ReadAllText(_dir["mx-ee.leaf"]));
        using var caCert = X509Certificate2.CreateFromPem(File.ReadAllText(_dir["ca.pem"]));
        var ee = Convert.ToHexStringLower(SHA256.HashData(eeCert.PublicKey.ExportSubjectPublicKeyInfo()));
        var ta = Convert.ToHexStringLower(SHA256.HashData(caCert.RawData));
        using var otherCert = X509Certificate2.CreateFromPem(File.ReadAllText(_dir["other.pem"]));
        var other = Convert.ToHexStringLower(SHA256.HashData(otherCert.PublicKey.ExportSubjectPublicKeyInfo()));
        File.WriteAllText(_dir["dane.test.zone"], $"""
            $ORIGIN dane.test.
            $TTL 300
            @ SOA ns.dane.test. admin.dane.test. 1 3600 600 86400 300
            @ NS ns.dane.test.
            ns.dane.test. A 127.0.0.1
            ee.dane.test. MX 10 mx-ee.dane.test.
            mx-ee.dane.test. A {EeMx}
            _25._tcp.mx-ee.dane.test. TLSA 3 1 1 {ee}
            ta.dane.test. MX 10 mx-ta.dane.test.
            mx-ta.dane.test. A {TaMx}
            _25._tcp.mx-ta.dane.test. TLSA 2 0 1 {ta}
            bad.dane.test. MX 10 mx-bad.dane.test.
            mx-bad.dane.test. A {BadMx}
            _25._tcp.mx-bad.dane.test. TLSA 3 1 1 {ee}
            bogus.dane.test. MX 10 mx-bogus.dane.test.
            mx-bogus.dane.test. A {BadMx}
            _25._tcp.mx-bogus.dane.test. TLSA 3 1 1 {ee}
            alias.dane.test. MX 10 mx-alias.dane.test.
            mx-alias.dane.test. CNAME mx-ee.dane.test.
            _25._tcp.mx-alias.dane.test. TLSA 3 1 1 {other}
            origin.dane.test. MX 10 mx-origin.dane.test.
            mx-origin.dane.test. CNAME target-origin.dane.test.
            target-origin.dane.test. A {TaMx}
            _25._tcp.mx-origin.dane.test. TLSA 2 0 1 {ta}
            mismatch.dane.test. MX 10 mx-mismatch.dane.test.
            mx-mismatch.dane.test. CNAME mx-bad.dane.test.
            _25._tcp.mx-mismatch.dane.test. TLSA 3 1 1 {other}
            insecure-alias.dane.test. MX 10 mx-insecure-alias.dane.test.
            mx-insecure-alias.dane.test. CNAME mx2.plain.test.
            _25._tcp.mx-insecure-alias.dane.test. TLSA 3 1 1 {ee}
            rpt.dane.test. MX 10 mx-rpt.dane.test.
            mx-rpt.dane.test. A {ReportingMx}
            _25._tcp.mx-rpt.dane.test. TLSA 3 1 1 {ee}
            _smtp._tls.rpt.dane.test. TXT "v=TLSRPTv1; rua=mailto:{ReportAddress}"
            rptbad.dane.test. MX 10 mx-rptbad.dane.test.
            mx-rptbad.dane.test. A {ReportingBadMx}
            _25._tcp.mx-rptbad.dane.test. TLSA 3 1 1 {ee}
            _smtp._tls.rptbad.dane.test. TXT "v=TLSRPTv1;rua=https://reports.test/tlsrpt,mailto:{ReportAddress}"

            """);
        File.WriteAllText(_dir["plain.test.zone"], $"""
            $ORIGIN plain.test.
            $TTL 300
            @ SOA ns.plain.test. admin.plain.test. 1 3600 600 86400 300
            @ NS ns.plain.test.
            ns.plain.test. A 127.0.0.1
            plain.test. MX 10 mx.plain.test.
            mx.plain.test. A {PlainMx}
            _25._tcp.mx.plain.test. TLSA 3 1 1 {ee}
            insecure.plain.test. MX 10 mx-bad.dane.test.
            mx2.plain.test. A {PlainMx}
            _25._tcp.mx2.plain.test. TLSA 3 1 1 {other}

            """);
        var signed = Run.Shell("""
            set -e
            cd "$1"
            key=$(ldns-keygen -a ECDSAP256SHA256 -k dane.test)
            ldns-signzone -f dane.test.signed dane.test.zone "$key"
            # A record changed after signing: its signature no longer holds, and a validating resolver says SERVFAIL.
            sed -i "/^_25\._tcp\.mx-bogus\.dane\.test\..*TLSA/s/$2/$3/" dane.test.signed
            grep -q "^_25\._tcp\.mx-bogus\.dane\.test\..*TLSA.*$3" dane.test.signed
            cp "$key.ds" anchor.ds
            """, args: [_dir.Path, ee, ta]);
        if (signed.ExitCode != 0) throw new InvalidOperationException("signing the zone: " + signed.Err);

        Port = Ports.Free();
        File.WriteAllText(_dir["unbound.conf"], $"""
            server:
              interface: 127.0.0.1
              port: {Port}
              do-daemonize: no
              chroot: ""
              username: ""
              directory: "{_dir.Path}"
              pidfile: "{_dir["unbound.pid"]}"
              logfile: "{_dir["unbound.log"]}"
              use-syslog: no
              verbosity: 1
              do-not-query-localhost: no
              trust-anchor-signaling: no
              root-key-sentinel: no
              local-zone: "test." nodefault
              trust-anchor-file: "{_dir["anchor.ds"]}"
            remote-control:
              control-enable: no
            auth-zone:
              name: "dane.test"
              zonefile: "{_dir["dane.test.signed"]}"
              for-upstream: yes
              for-downstream: no
              fallback-enabled: no
            auth-zone:
              name: "plain.test"
              zonefile: "{_dir["plain.test.zone"]}"
              for-upstream: yes
              for-downstream: no
              fallback-enabled: no
            """);
        _unbound = Run.Start("/usr/sbin/unbound", ["-d", "-c", _dir["unbound.conf"]], redirect: Redirect.Error);
        // Ready when it answers, validated, for the signed zone: also the proof the trust anchor took.
        var dns = MailHosts.Client([new IPEndPoint(IPAddress.Loopback, Port)], dnssec: true);
        for (var i = 0; i < 100 && !_unbound.HasExited; i++)
        {
            try
            {
                if (dns.Query("ee.dane.test.", QueryType.MX).Header.IsAuthenticData) return;
            }
            catch (DnsResponseException) { }
            Thread.Sleep(50);
        }
        var log = File.Exists(_dir["unbound.log"]) ? File.ReadAllText(_dir["unbound.log"]) : "";
        Dispose();
        throw new InvalidOperationException("unbound did not answer with validated data: " + log);
    }

    public void Dispose()
    {
        try { if (!_unbound.HasExited) { _unbound.Kill(); _unbound.WaitForExit(10_000); } } catch (InvalidOperationException) { }
        _unbound.Dispose();
        _dir.Dispose();
    }
}
