using System.Net;
using System.Net.Security;
using System.Text;
using Jsmail.Tlsrpt;

namespace Jsmail.Remote.Tests;

/// <summary>The parts of TLS reporting (RFC 8460) that need no peer: the TLSRPT record, the policy strings, the session lines.</summary>
public class TlsReportingUnitTests
{
    [Fact]
    public void Only_the_mailto_addresses_of_exactly_one_TLSRPT_record_are_used()
    {
        ReportAddresses.MailtoAddresses(["v=TLSRPTv1; rua=mailto:a@x.test,https://r.test/up, mailto:b%2Bc@y.test?subject=x"])
            .Should().Equal("a@x.test", "b+c@y.test");
        ReportAddresses.MailtoAddresses(["v=TLSRPTv1;rua=mailto:a@x.test", "v=TLSRPTv1;rua=mailto:b@x.test"]).Should().BeEmpty("two records: none (§3)");
        ReportAddresses.MailtoAddresses(["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@x.test"]).Should().Equal("a@x.test");
        ReportAddresses.MailtoAddresses(["v=TLSRPTv10; rua=mailto:a@x.test"]).Should().BeEmpty("not the version");
        ReportAddresses.MailtoAddresses(["v=TLSRPTv1; rua=mailto:-f@x.test,mailto:nobody"]).Should().BeEmpty("never an option, never a word without a domain");
    }

    [Fact]
    public void An_sts_policy_is_reported_as_its_lines_and_its_mx_patterns()
    {
        var policy = MtaStsPolicy.Parse("version: STSv1\nmode: testing\nmx: mx1.x.test\nmx: *.x.test\nmax_age: 86400\n", out _)!;
        var reported = TlsReportPolicy.Of(new MtaStsDecision("x.test", policy, _ => { }));
        reported.Type.Should().Be("sts");
        reported.Domain.Should().Be("x.test");
        reported.Strings.Should().Equal("version: STSv1", "mode: testing", "mx: mx1.x.test", "mx: *.x.test", "max_age: 86400");
        reported.MxHost.Should().Equal("mx1.x.test", "*.x.test");
    }

    [Fact]
    public void Certificate_errors_map_to_rfc_8460_result_types()
    {
        TlsResultType.Of(SslPolicyErrors.RemoteCertificateNameMismatch, null).Should().Be("certificate-host-mismatch");
        TlsResultType.Of(SslPolicyErrors.RemoteCertificateChainErrors, null).Should().Be("certificate-not-trusted");
        TlsResultType.Of(SslPolicyErrors.RemoteCertificateNotAvailable, null).Should().Be("validation-failure");
    }

    [Fact]
    public void A_session_line_reads_back_as_written_and_a_torn_one_is_skipped()
    {
        var policy = new TlsReportPolicy("tlsa", "x.test", ["3 1 1 ab"], ["mx.x.test"]);
        var line = TlsSessionLog.Line(policy, "validation-failure", "mx.x.test", IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1"),
            "no match", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        line[^1].Should().Be((byte)'\n');
        var text = Encoding.UTF8.GetString(line);
        text.Should().NotContain("\n\n").And.Subject.Count(c => c == '\n').Should().Be(1, "one line per session");
        var read = SessionRecord.Parse(text.TrimEnd('\n'))!;
        read.Should().Be(new SessionRecord("tlsa", "x.test", read.PolicyString, read.MxHost, "validation-failure", "mx.x.test",
            "192.0.2.1", "2001:db8::1", "no match"));
        read.PolicyString.Should().Equal("3 1 1 ab");
        SessionRecord.Parse(text[..(text.Length / 2)]).Should().BeNull();
    }

    [Fact]
    public void TLSRPT_in_remotedisable_switches_reporting_off_and_it_is_on_by_default()
    {
        RemoteFeatures.All.HasFlag(RemoteFeatures.TlsReporting).Should().BeTrue();
        RemoteFeatureNames.Enabled([Encoding.ASCII.GetBytes("tlsrpt")]).HasFlag(RemoteFeatures.TlsReporting).Should().BeFalse();
        RemoteFeatureNames.Enabled([Encoding.ASCII.GetBytes("TLS-RPT")]).HasFlag(RemoteFeatures.TlsReporting).Should().BeFalse();
    }
}
