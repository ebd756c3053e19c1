using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// DANE (RFC 7672) on both delivery paths, against a real validating
/// resolver (<see cref="DaneZone"/>: unbound with a zone signed by
/// ldns-signzone) and scripted SMTP peers on port 25 of 127.0.0.101-104
/// presenting certificates that match their TLSA records or not. No
/// control/tlsdestinations line: DANE is the default outside compat mode.
/// </summary>
public sealed class DaneTests : IClassFixture<DaneZone>, IDisposable
{
    private const string StartTls = "250-stub\r\n250 STARTTLS";

    private readonly DaneZone _zone;
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-dane-test");
    private readonly List<StubPeer> _peers = [];

    public DaneTests(DaneZone zone)
    {
        _zone = zone;
        _home.WriteControl("dnsresolvers", $"127.0.0.1:{zone.Port}\n");
        _home.WriteControl("timeoutconnect", "5\n");
    }

    public void Dispose()
    {
        foreach (var p in _peers) p.Dispose();
        _home.Dispose();
        _dir.Dispose();
    }

    private StubPeer Peer(string ip, string certificate, int connections = 1)
    {
        var peer = new StubPeer(ip, 25, new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = _zone.Certificate(certificate), ["connections"] = connections,
        });
        _peers.Add(peer);
        return peer;
    }

    /// <summary>jsmail-remote for one recipient at <paramref name="domain"/>: (report with NULs as '|', stderr).</summary>
    private (string Report, string Log) Remote(string domain, bool compat = false)
    {
        File.WriteAllText(_dir["msg"], "Subject: dane\n\nbody\n");
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote"), domain, "a@b.test", "c@" + domain],
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null }, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return (Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|'), Encoding.UTF8.GetString(r.Stderr));
    }

    private static string Accepted(string ip) => $"r|K{ip} accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    private static void WentUnderTls(StubPeer peer)
    {
        var transcript = peer.Transcript.ToList();
        transcript.Should().Contain("TLS").And.Contain("C: MAIL FROM:<a@b.test>");
        transcript.IndexOf("TLS").Should().BeLessThan(transcript.IndexOf("C: MAIL FROM:<a@b.test>"));
    }

    [Theory]
    [InlineData("ee.dane.test", DaneZone.EeMx, "mx-ee")] // 3 1 1: the peer's own key
    [InlineData("ta.dane.test", DaneZone.TaMx, "mx-ta")] // 2 0 1: the CA certificate the peer sends in its chain
    public void A_certificate_matching_its_tlsa_record_gets_the_message(string domain, string ip, string certificate)
    {
        var peer = Peer(ip, certificate);
        var (report, log) = Remote(domain);
        report.Should().Be(Accepted(ip));
        log.Should().Contain($"jsmail-remote: DANE for {certificate}.dane.test: success: the certificate matches a TLSA record of {certificate}.dane.test\n");
        WentUnderTls(peer);
    }

    [Fact]
    public void A_certificate_matching_no_tlsa_record_is_deferred_and_gets_nothing_unless_dane_is_off()
    {
        var peer = Peer(DaneZone.BadMx, "other", connections: 3);
        var (report, log) = Remote("bad.dane.test");
        report.Should().Be($"ZConnected to {DaneZone.BadMx} but the TLS handshake failed: certificate matches no TLSA record of mx-bad.dane.test (DANE); " +
            "DANE (the TLSA records of _25._tcp.mx-bad.dane.test) requires a certificate that matches them. (#4.7.5)\n|");
        log.Should().Contain("jsmail-remote: DANE for mx-bad.dane.test: validation-failure: certificate matches no TLSA record of mx-bad.dane.test (DANE)\n");

        // The counter-proof: the same peer takes the message without DANE (switched off, or compat mode).
        _home.WriteControl("remotedisable", "DANE\n");
        Remote("bad.dane.test").Report.Should().Be(Accepted(DaneZone.BadMx));
        Remote("bad.dane.test", compat: true).Report.Should().Be(Accepted(DaneZone.BadMx));
        peer.Transcript.Count(l => l == "C: MAIL FROM:<a@b.test>").Should().Be(2, "the DANE delivery sent no MAIL");
    }

    [Fact]
    public void Without_dnssec_the_tlsa_records_are_not_used()
    {
        // plain.test is unsigned: its TLSA record does not match, but without the AD bit it is no DANE.
        Peer(DaneZone.PlainMx, "other");
        Remote("plain.test").Report.Should().Be(Accepted(DaneZone.PlainMx));
        // RFC 7672 §2.2.1: an MX host in the signed zone, with a (mismatching) validated TLSA record, named by an unsigned MX record.
        Peer(DaneZone.BadMx, "other");
        var (report, log) = Remote("insecure.plain.test");
        report.Should().Be(Accepted(DaneZone.BadMx));
        log.Should().NotContain("DANE");
    }

    [Fact]
    public void A_bogus_tlsa_answer_defers_the_delivery()
    {
        var (report, log) = Remote("bogus.dane.test");
        report.Should().Be("ZSorry, the TLSA records of the mail exchangers of bogus.dane.test (mx-bogus.dane.test) could not be looked up securely (DNSSEC). (#4.7.5)\n|");
        log.Should().Contain("jsmail-remote: DANE for mx-bogus.dane.test: tlsa-invalid: the TLSA lookup of _25._tcp.mx-bogus.dane.test failed (SERVFAIL)");
    }

    [Fact]
    public void Dane_only_defers_a_destination_without_tlsa_records()
    {
        _home.WriteControl("tlsdestinations", "plain.test:dane-only\n");
        Remote("plain.test").Report.Should().Be(
            "ZSorry, control/tlsdestinations requires DANE (dane-only) for plain.test, and none of its mail exchangers (mx.plain.test) has usable TLSA records. (#4.7.5)\n|");
    }

    [Fact]
    public void An_alias_is_judged_by_the_tlsa_records_of_its_expanded_name_first()
    {
        // RFC 7672 §2.2.2: mx-alias is a CNAME to mx-ee; the records at mx-ee match, the one at mx-alias would not.
        var peer = Peer(DaneZone.EeMx, "mx-ee");
        var (report, log) = Remote("alias.dane.test");
        report.Should().Be(Accepted(DaneZone.EeMx));
        log.Should().Contain("jsmail-remote: DANE for mx-alias.dane.test: success: the certificate matches a TLSA record of mx-ee.dane.test\n");
        WentUnderTls(peer);
    }

    [Fact]
    public void An_alias_without_records_at_its_expanded_name_uses_those_of_its_original_name()
    {
        // The DANE-TA record is only at mx-origin; the certificate names the expanded name, target-origin (RFC 7672 §3.2.2: either name).
        var peer = Peer(DaneZone.TaMx, "target-origin");
        var (report, log) = Remote("origin.dane.test");
        report.Should().Be(Accepted(DaneZone.TaMx));
        log.Should().Contain("jsmail-remote: DANE for mx-origin.dane.test: success: the certificate matches a TLSA record of mx-origin.dane.test\n");
        WentUnderTls(peer);
    }

    [Fact]
    public void An_alias_whose_expanded_name_has_records_matching_no_certificate_is_deferred()
    {
        // The record at mx-mismatch would match the peer's certificate, but the expanded name's (mx-bad) come first and do not.
        var peer = Peer(DaneZone.BadMx, "other");
        var (report, log) = Remote("mismatch.dane.test");
        report.Should().Be($"ZConnected to {DaneZone.BadMx} but the TLS handshake failed: certificate matches no TLSA record of mx-bad.dane.test (DANE); " +
            "DANE (the TLSA records of _25._tcp.mx-bad.dane.test) requires a certificate that matches them. (#4.7.5)\n|");
        log.Should().Contain("jsmail-remote: DANE for mx-mismatch.dane.test: validation-failure: certificate matches no TLSA record of mx-bad.dane.test (DANE)\n");
        peer.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public void An_alias_into_an_unsigned_zone_uses_only_its_original_names_records()
    {
        // mx-insecure-alias (signed) is a CNAME to mx2.plain.test (unsigned, whose record would not match): the original name's record decides.
        var peer = Peer(DaneZone.PlainMx, "mx-ee");
        var (report, log) = Remote("insecure-alias.dane.test");
        report.Should().Be(Accepted(DaneZone.PlainMx));
        log.Should().Contain("jsmail-remote: DANE for mx-insecure-alias.dane.test: success: the certificate matches a TLSA record of mx-insecure-alias.dane.test\n");
        WentUnderTls(peer);
    }

    [Fact]
    public void The_pooled_rspawn_follows_an_alias_to_its_records_too()
    {
        Peer(DaneZone.EeMx, "mx-ee");
        var bad = Peer(DaneZone.BadMx, "other");
        File.WriteAllText(_home.Queue("mess/0/502"), "Subject: pooled\n\nbody\n");
        File.WriteAllText(_home.Queue("mess/0/503"), "Subject: pooled\n\nbody\n");
        File.WriteAllBytes(_dir["commands"], [.. Encoding.Latin1.GetBytes("\u0001" + "0/502\0s@x\0u@alias.dane.test\0"), .. Encoding.Latin1.GetBytes("\u0002" + "0/503\0s@x\0v@mismatch.dane.test\0")]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_COMPAT"] = null, ["QMAILREMOTE"] = null },
            timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        var output = Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
        output.Should().Contain("\u0001" + Accepted(DaneZone.EeMx)[2..]);
        output.Should().Contain($"\u0002ZConnected to {DaneZone.BadMx} but the TLS handshake failed: certificate matches no TLSA record of mx-bad.dane.test (DANE); ");
        r.Err.Should().Contain("jsmail-rspawn: DANE for mx-alias.dane.test: success: the certificate matches a TLSA record of mx-ee.dane.test");
        bad.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public void The_pooled_rspawn_delivers_by_dane_and_defers_a_mismatch()
    {
        Peer(DaneZone.EeMx, "mx-ee");
        var bad = Peer(DaneZone.BadMx, "other");
        File.WriteAllText(_home.Queue("mess/0/500"), "Subject: pooled\n\nbody\n");
        File.WriteAllText(_home.Queue("mess/0/501"), "Subject: pooled\n\nbody\n");
        File.WriteAllBytes(_dir["commands"], [.. Encoding.Latin1.GetBytes("\u0001" + "0/500\0s@x\0u@ee.dane.test\0"), .. Encoding.Latin1.GetBytes("\u0002" + "0/501\0s@x\0v@bad.dane.test\0")]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_COMPAT"] = null, ["QMAILREMOTE"] = null },
            timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        var output = Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
        output.Should().Contain("\u0001" + Accepted(DaneZone.EeMx)[2..]);
        output.Should().Contain($"\u0002ZConnected to {DaneZone.BadMx} but the TLS handshake failed: certificate matches no TLSA record of mx-bad.dane.test (DANE); ");
        r.Err.Should().Contain("jsmail-rspawn: DANE for mx-ee.dane.test: success");
        bad.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
    }
}
