using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Remote;

namespace Jsmail.Remote.Tests;

/// <summary>
/// TLSA matching (RFC 6698 §2.1, RFC 7672 §3) on certificates made here: a CA,
/// an intermediate under it, and a server certificate for mx.example.test
/// under the intermediate; and control/tlsdestinations' DANE words.
/// </summary>
public sealed class TlsaUnitTests
{
    private static readonly (X509Certificate2 Ca, X509Certificate2 Intermediate, X509Certificate2 Leaf, X509Certificate2 Stranger) s_certs = Make();

    private static (X509Certificate2, X509Certificate2, X509Certificate2, X509Certificate2) Make()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

        using var midKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var midRequest = new CertificateRequest("CN=test intermediate", midKey, HashAlgorithmName.SHA256);
        midRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        midRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var mid = midRequest.Create(ca, now.AddDays(-1), now.AddDays(1), [1]).CopyWithPrivateKey(midKey);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=mx.example.test", leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("mx.example.test");
        leafRequest.CertificateExtensions.Add(san.Build());
        var leaf = leafRequest.Create(mid, now.AddDays(-1), now.AddHours(12), [2]);

        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var stranger = new CertificateRequest("CN=mx.example.test", strangerKey, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        return (ca, mid, leaf, stranger);
    }

    private static Tlsa Record(byte usage, byte selector, byte matching, X509Certificate2 of)
    {
        var data = selector == 0 ? of.RawData : of.PublicKey.ExportSubjectPublicKeyInfo();
        return new Tlsa(usage, selector, matching, matching switch { 1 => SHA256.HashData(data), 2 => SHA512.HashData(data), _ => data });
    }

    private static string? Check(Tlsa record, string name = "mx.example.test", X509Certificate2? leaf = null, string[]? alsoNames = null) =>
        DaneVerifier.Problem([record], leaf ?? s_certs.Leaf, [leaf ?? s_certs.Leaf, s_certs.Intermediate, s_certs.Ca], [name, .. alsoNames ?? []]);

    [Theory]
    [InlineData(3, 1, 1)]
    [InlineData(3, 0, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(3, 0, 0)]
    public void Dane_ee_matches_the_servers_own_certificate_whatever_its_name(byte usage, byte selector, byte matching)
    {
        Check(Record(usage, selector, matching, s_certs.Leaf), name: "other.test").Should().BeNull("DANE-EE checks no name (RFC 7672 §3.1.1)");
        Check(Record(usage, selector, matching, s_certs.Stranger)).Should().Be("certificate matches no TLSA record of mx.example.test (DANE)");
    }

    [Theory]
    [InlineData(2, 0, 1, "ca")]
    [InlineData(2, 1, 1, "ca")]
    [InlineData(2, 0, 2, "intermediate")]
    public void Dane_ta_needs_the_chain_to_the_anchor_and_the_mx_name(byte usage, byte selector, byte matching, string anchor)
    {
        var record = Record(usage, selector, matching, anchor == "ca" ? s_certs.Ca : s_certs.Intermediate);
        Check(record).Should().BeNull();
        Check(record, name: "other.test").Should().Be("certificate does not name other.test (DANE-TA)");
        Check(record, leaf: s_certs.Stranger).Should().Be("certificate does not chain to the trust anchor of the TLSA record of mx.example.test (DANE-TA)");
    }

    [Fact]
    public void Dane_ta_takes_either_name_of_an_alias()
    {
        // RFC 7672 §3.2.2: for an MX host that is a CNAME, its original and its expanded name are both reference identifiers.
        var record = Record(2, 0, 1, s_certs.Ca);
        Check(record, name: "target.example.test", alsoNames: ["mx.example.test"]).Should().BeNull();
        Check(record, name: "mx.example.test", alsoNames: ["target.example.test"]).Should().BeNull();
        Check(record, name: "target.example.test", alsoNames: ["alias.example.test"])
            .Should().Be("certificate does not name target.example.test or alias.example.test (DANE-TA)");
    }

    [Fact]
    public void Pkix_usages_and_unknown_parameters_are_unusable()
    {
        Record(0, 0, 1, s_certs.Ca).Usable.Should().BeFalse("PKIX-TA is unusable for SMTP (RFC 7672 §3.1.3)");
        Record(1, 1, 1, s_certs.Leaf).Usable.Should().BeFalse("PKIX-EE too");
        new Tlsa(3, 2, 1, new byte[32]).Usable.Should().BeFalse("selector 2 does not exist");
        new Tlsa(3, 1, 1, new byte[31]).Usable.Should().BeFalse("a SHA-256 digest has 32 bytes");
        Record(3, 1, 1, s_certs.Leaf).Usable.Should().BeTrue();
        Check(Record(1, 1, 1, s_certs.Leaf)).Should().NotBeNull("an unusable record matches nothing");
    }

    [Theory]
    [InlineData("x.test:none", "Off", "Never")]
    [InlineData("x.test:may", "Opportunistic", "Never")]
    [InlineData("x.test:encrypt", "Require", "Never")]
    [InlineData("x.test:verify", "Verify", "Never")]
    [InlineData("x.test:dane", "Opportunistic", "WhenUsable")]
    [InlineData("x.test:dane-only", "Dane", "Only")]
    [InlineData("other.test:off", "Opportunistic", "WhenUsable")]
    public void Tlsdestinations_words_say_whether_dane_decides(string line, string mode, string dane)
    {
        var policy = TlsPolicy.For(new ControlMap([Encoding.ASCII.GetBytes(line)]), "x.test"u8);
        $"{policy.Mode} {policy.Dane}".Should().Be($"{mode} {dane}");
    }
}
