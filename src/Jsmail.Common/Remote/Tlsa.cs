using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Jsmail.Common.Remote;

/// <summary>
/// One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching
/// type and the certificate association data, as DNS gave them.
/// </summary>
public sealed record Tlsa(byte Usage, byte Selector, byte Matching, byte[] Data)
{
    public const byte DaneTa = 2, DaneEe = 3;

    /// <summary>
    /// RFC 7672 §3.1.3: only DANE-TA(2) and DANE-EE(3) are usable for SMTP
    /// (PKIX-TA/PKIX-EE would need roots the client cannot know the server
    /// meant); selectors 0 (full certificate) and 1 (SPKI); matching 0 (exact),
    /// 1 (SHA-256) and 2 (SHA-512), the digests of their right length.
    /// </summary>
    public bool Usable => Usage is DaneTa or DaneEe && Selector is 0 or 1 && Matching switch
    {
        0 => Data.Length > 0,
        1 => Data.Length == 32,
        2 => Data.Length == 64,
        _ => false,
    };

    /// <summary>Whether this record's data is the certificate's (or its public key's), by the record's matching type.</summary>
    public bool Matches(X509Certificate2 certificate)
    {
        var selected = Selector == 0 ? certificate.RawData : certificate.PublicKey.ExportSubjectPublicKeyInfo();
        var digest = Matching switch
        {
            0 => selected,
            1 => SHA256.HashData(selected),
            2 => SHA512.HashData(selected),
            _ => null,
        };
        return digest != null && CryptographicOperations.FixedTimeEquals(digest, Data);
    }

    /// <summary>As zone files and logs write it: "3 1 1 ab12...".</summary>
    public override string ToString() => $"{Usage} {Selector} {Matching} {Convert.ToHexStringLower(Data)}";
}

/// <summary>What DANE found of a peer's certificate, for the log and, later, TLS reporting (RFC 8460's result types).</summary>
public enum DaneResult
{
    /// <summary>The certificate matched a usable TLSA record.</summary>
    Success,
    /// <summary>The TLSA records could not be had securely (a DNSSEC or lookup failure) or none of them is usable.</summary>
    TlsaInvalid,
    /// <summary>The peer's certificate matched none of the usable TLSA records.</summary>
    CertificateMismatch,
    /// <summary>The peer did not offer STARTTLS, or refused it.</summary>
    StartTlsNotSupported,
}

/// <summary>
/// RFC 7672 §3.1 and §3.2: a peer's certificate checked against its usable
/// TLSA records, and nothing else (no PKIX fallback). DANE-EE(3): the
/// end-entity certificate itself matches; no name and no expiry check
/// (§3.1.1: the record is the binding). DANE-TA(2): a certificate the peer
/// sent matches, the end-entity certificate chains to it (validity dates
/// checked, as for any chain), and names the MX host, or for an alias its
/// expanded name (§3.2.2; wildcards as RFC 6125 allows).
/// </summary>
public static class DaneVerifier
{
    /// <summary>Null when the certificate is good by the records; else why not, in the words of jsmail-remote's TLS reports.</summary>
    /// <param name="names">
    /// the TLSA base domain first (the name reports give), then any other name
    /// a DANE-TA(2) certificate may carry instead (RFC 7672 §3.2.2: for an
    /// alias, both its original and its expanded name)
    /// </param>
    public static string? Problem(IReadOnlyList<Tlsa> records, X509Certificate2? leaf, IReadOnlyList<X509Certificate2> sent, IReadOnlyList<string> names)
    {
        var hostName = names[0];
        if (leaf == null) return "no certificate";
        var usable = records.Where(r => r.Usable).ToList();
        if (usable.Any(r => r.Usage == Tlsa.DaneEe && r.Matches(leaf))) return null;
        var taRecords = usable.Where(r => r.Usage == Tlsa.DaneTa).ToList();
        var anchors = sent.Where(c => taRecords.Any(r => r.Matches(c))).ToList();
        if (anchors.Count == 0)
            return $"certificate matches no TLSA record of {hostName} (DANE)";
        var chained = anchors.Where(a => ChainsTo(leaf, a, sent)).ToList();
        if (chained.Count == 0)
            return $"certificate does not chain to the trust anchor of the TLSA record of {hostName} (DANE-TA)";
        return names.Any(n => leaf.MatchesHostname(n, allowWildcards: true, allowCommonName: true))
            ? null
            : $"certificate does not name {string.Join(" or ", names)} (DANE-TA)";
    }

    /// <summary>The end-entity certificate verifies up to <paramref name="anchor"/> (taken as the only root), through what the peer sent.</summary>
    private static bool ChainsTo(X509Certificate2 leaf, X509Certificate2 anchor, IReadOnlyList<X509Certificate2> sent)
    {
        if (leaf.RawData.AsSpan().SequenceEqual(anchor.RawData)) return false; // the leaf is not its own trust anchor: that is DANE-EE's case
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        foreach (var c in sent) chain.ChainPolicy.ExtraStore.Add(c);
        if (chain.Build(leaf)) return true;
        // An intermediate may be the trust anchor (RFC 7671 §5.2.2): the chain is good once it reaches the anchor
        // with nothing wrong below it but the anchor's own issuer being unknown.
        var elements = chain.ChainElements.Select(e => e).ToList();
        var at = elements.FindIndex(e => e.Certificate.RawData.AsSpan().SequenceEqual(anchor.RawData));
        return at > 0 && elements.Take(at + 1).All(e => e.ChainElementStatus.All(s =>
            s.Status is X509ChainStatusFlags.NoError or X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain));
    }
}
