namespace Jsmail.Common.Remote;

/// <summary>
/// What the SMTP client does beyond qmail-remote, each switched off by its
/// name on a line of control/remotedisable (as control/smtpdisable does for
/// jsmail-smtpd); JSMAIL_COMPAT=qmail switches all of them off.
/// </summary>
[Flags]
public enum RemoteFeatures
{
    None = 0,
    /// <summary>EHLO (RFC 5321 §4.1.1.1); off: HELO only, so no extension of the peer is ever used.</summary>
    Ehlo = 1,
    /// <summary>RFC 2920: MAIL and the RCPTs written as one group.</summary>
    Pipelining = 2,
    /// <summary>RFC 1870: SIZE= on MAIL, and a message over the peer's limit not sent.</summary>
    Size = 4,
    /// <summary>RFC 6152: BODY=8BITMIME, and 8-bit bytes refused to a peer without it; off: sent as qmail sends them.</summary>
    EightBitMime = 8,
    /// <summary>RFC 6531: SMTPUTF8 on MAIL, and a UTF-8 envelope refused to a peer without it; off: sent as qmail sends it.</summary>
    SmtpUtf8 = 16,
    /// <summary>RFC 3461: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT.</summary>
    Dsn = 32,
    /// <summary>AAAA records of exchangers and relays (DNS); an [IPv6:...] literal in smtproutes works without it.</summary>
    Aaaa = 64,
    /// <summary>RFC 8461: the recipient domain's MTA-STS policy applied to delivery by MX (MtaSts.cs).</summary>
    MtaSts = 128,
    /// <summary>RFC 3030: BDAT instead of DATA to a peer offering CHUNKING, and BODY=BINARYMIME to one offering BINARYMIME too; off: DATA, and a binary message refused (5.6.3).</summary>
    Chunking = 256,
    /// <summary>RFC 9422: the peer's LIMITS obeyed (RCPTMAX splits the recipients into transactions, MAILMAX bounds a session's transactions); off: ignored.</summary>
    Limits = 512,
    /// <summary>RFC 8689 §3: a <c>TLS-Required: No</c> header field relaxes control/tlsdestinations' require and verify (MessageTls.cs).</summary>
    TlsRequiredHeader = 1024,
    /// <summary>RFC 7672: TLSA records of DNSSEC-validated MX hosts make their TLS mandatory and judge their certificates (Dane.cs).</summary>
    Dane = 2048,
    /// <summary>MAIL parameters a native plugin took in (docs/plugins.md: MT-PRIORITY, say) given to a peer that offers the same EHLO keyword; off: never sent on.</summary>
    PluginParameters = 4096,
    /// <summary>RFC 8460: each TLS session's result written to queue/tlsrpt/ for jsmail-tlsrpt's daily reports (TlsSessionLog.cs); off: nothing written.</summary>
    TlsReporting = 8192,
    All = 4095 | PluginParameters | TlsReporting,
}

public static class RemoteFeatureNames
{
    public const string DisableFile = "remotedisable";

    /// <summary>The names administrators write in control/remotedisable, one a line (case does not matter; unknown words do nothing).</summary>
    public static RemoteFeatures ByName(string name) => name.Trim().ToUpperInvariant() switch
    {
        "EHLO" => RemoteFeatures.Ehlo,
        "PIPELINING" => RemoteFeatures.Pipelining,
        "SIZE" => RemoteFeatures.Size,
        "8BITMIME" => RemoteFeatures.EightBitMime,
        "SMTPUTF8" => RemoteFeatures.SmtpUtf8,
        "DSN" => RemoteFeatures.Dsn,
        "AAAA" => RemoteFeatures.Aaaa,
        "MTASTS" or "MTA-STS" => RemoteFeatures.MtaSts,
        "CHUNKING" => RemoteFeatures.Chunking,
        "LIMITS" => RemoteFeatures.Limits,
        "TLS-REQUIRED" => RemoteFeatures.TlsRequiredHeader,
        "DANE" => RemoteFeatures.Dane,
        "PLUGIN-PARAMETERS" => RemoteFeatures.PluginParameters,
        "TLSRPT" or "TLS-RPT" => RemoteFeatures.TlsReporting,
        _ => RemoteFeatures.None,
    };

    /// <summary>control/remotedisable's lines taken off everything.</summary>
    public static RemoteFeatures Enabled(IEnumerable<byte[]> disabledLines)
    {
        var features = RemoteFeatures.All;
        foreach (var line in disabledLines)
            features &= ~ByName(System.Text.Encoding.ASCII.GetString(line));
        return features;
    }
}
