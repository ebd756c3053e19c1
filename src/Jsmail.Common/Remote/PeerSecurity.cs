using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Common.Remote;

/// <summary>How much TLS a destination gets (control/tlsdestinations).</summary>
public enum TlsMode
{
    /// <summary>STARTTLS when offered, any certificate; no STARTTLS is fine.</summary>
    Opportunistic,
    /// <summary>STARTTLS must be offered and succeed; any certificate.</summary>
    Require,
    /// <summary>As Require, and the certificate must verify for the peer's name.</summary>
    Verify,
    /// <summary>Never STARTTLS (a peer whose TLS is broken).</summary>
    Off,
    /// <summary>
    /// DANE (RFC 7672): STARTTLS must be offered and succeed, and the
    /// certificate must match the peer's usable TLSA records (<see cref="PeerSecurity.Tlsa"/>), nothing else.
    /// </summary>
    Dane,
}

/// <summary>Whether a destination's rule lets DANE decide (control/tlsdestinations' words; RFC 7672).</summary>
public enum DaneRule
{
    /// <summary>The rule's word is the administrator's choice of TLS (<c>may</c>, <c>encrypt</c>, <c>verify</c>, <c>off</c>...): no TLSA lookup.</summary>
    Never,
    /// <summary>No line, or <c>dane</c>: DANE for the hosts with usable TLSA records, the rule's mode for the others.</summary>
    WhenUsable,
    /// <summary><c>dane-only</c>: a host without usable TLSA records is not used.</summary>
    Only,
}

/// <summary>A destination's TLS rule: the mode and, for Verify, the CA file (null: the system's roots).</summary>
public sealed record TlsPolicy(TlsMode Mode, string? CaFile)
{
    public static readonly TlsPolicy Opportunistic = new(TlsMode.Opportunistic, null);

    /// <summary>No line in control/tlsdestinations: opportunistic, and DANE where the peer publishes it.</summary>
    public static readonly TlsPolicy Default = new(TlsMode.Opportunistic, null) { Dane = DaneRule.WhenUsable };

    public bool Required => Mode is TlsMode.Require or TlsMode.Verify or TlsMode.Dane;

    /// <summary>Whether DANE may replace this rule for a host with usable TLSA records.</summary>
    public DaneRule Dane { get; init; }

    /// <summary>Who asks for this rule, as a refusal names it; null: control/tlsdestinations (an MTA-STS policy sets its own).</summary>
    public string? RequiredBy { get; init; }

    /// <summary>
    /// control/tlsdestinations, looked up like smtproutes (the host, each
    /// .suffix longest first, the empty key): <c>domain:require</c>,
    /// <c>domain:verify</c>, <c>domain:verify:/path/ca.pem</c>,
    /// <c>domain:opportunistic</c>, <c>domain:off</c>, and Postfix's words:
    /// <c>none</c> (off), <c>may</c> (opportunistic), <c>encrypt</c> (require),
    /// <c>dane</c> (DANE where usable TLSA records exist, else opportunistic)
    /// and <c>dane-only</c> (DANE or nothing). A word it does not know
    /// counts as <c>verify</c>: a typo must not send mail unprotected.
    /// </summary>
    public static TlsPolicy For(ControlMap tlsDestinations, ReadOnlySpan<byte> host)
    {
        if (!tlsDestinations.TryGetByDomain(host, out var value)) return Default;
        var text = Encoding.UTF8.GetString(value).Trim();
        var colon = text.IndexOf(':');
        var word = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var ca = colon < 0 ? null : text[(colon + 1)..].Trim();
        return word switch
        {
            "" or "opportunistic" or "may" => Opportunistic,
            "off" or "none" => new TlsPolicy(TlsMode.Off, null),
            "require" or "encrypt" => new TlsPolicy(TlsMode.Require, null),
            "dane" => Default,
            "dane-only" => new TlsPolicy(TlsMode.Dane, null) { Dane = DaneRule.Only },
            _ => new TlsPolicy(TlsMode.Verify, string.IsNullOrEmpty(ca) ? null : ca),
        };
    }
}

/// <summary>AUTH credentials for a relay; <see cref="WithoutTls"/> allows them on a plain connection.</summary>
public sealed record Credentials(byte[] User, byte[] Password, bool WithoutTls)
{
    /// <summary>
    /// control/remoteauth: <c>relay:user:password</c> a line (the password is
    /// the rest of the line, colons and all); a line starting with <c>!</c>
    /// also allows the credentials without TLS. The relay is the name (or IP)
    /// written in smtproutes (brackets and all for a literal), compared without
    /// case; the later line wins.
    /// </summary>
    public static Credentials? For(IEnumerable<byte[]> lines, ReadOnlySpan<byte> relay)
    {
        Credentials? found = null;
        foreach (var raw in lines)
        {
            var line = raw.AsSpan();
            var plain = line.Length > 0 && line[0] == (byte)'!';
            if (plain) line = line[1..];
            var c1 = Routes.RelayLength(line, compat: false); // "[IPv6:...]" as smtproutes writes it
            if (c1 == line.Length) continue;
            var c2 = line[(c1 + 1)..].IndexOf((byte)':');
            if (c2 < 0) continue;
            if (!AsciiCase.EqualsIgnoringCase(line[..c1], relay)) continue;
            found = new Credentials(line[(c1 + 1)..(c1 + 1 + c2)].ToArray(), line[(c1 + 2 + c2)..].ToArray(), plain);
        }
        return found;
    }


    /// <summary>RFC 4616's initial response: base64 of NUL user NUL password.</summary>
    public string PlainResponse() => Convert.ToBase64String([0, .. User, 0, .. Password]);

    public override string ToString() => "Credentials"; // never the password in a log or exception
}

/// <summary>
/// What a connection must establish before MAIL: its TLS rule, the name a
/// certificate must carry, and AUTH credentials for a smarthost.
/// </summary>
public sealed record PeerSecurity(TlsPolicy Tls, string PeerName, string Destination, Credentials? Auth)
{
    /// <summary>
    /// The message carries REQUIRETLS (RFC 8689): <see cref="Tls"/> is Verify,
    /// the peer must offer REQUIRETLS after STARTTLS, MAIL carries REQUIRETLS,
    /// and every failure to get there returns the message (5.7.10, 5.7.30).
    /// </summary>
    public bool RequireTls { get; init; }

    /// <summary>qmail's dialogue: no STARTTLS, no AUTH.</summary>
    public static readonly PeerSecurity None = new(new TlsPolicy(TlsMode.Off, null), "", "", null);

    /// <summary>
    /// MTA-STS testing: told (for the log) what would fail under enforce -- no
    /// STARTTLS, or a certificate that does not verify for the peer's name --
    /// while the delivery goes on as the TLS rule allows.
    /// </summary>
    public Action<string>? Observe { get; init; }

    /// <summary>With <see cref="TlsMode.Dane"/>: the peer's usable TLSA records, the only judges of its certificate.</summary>
    public IReadOnlyList<Tlsa> Tlsa { get; init; } = [];

    /// <summary>
    /// With <see cref="TlsMode.Dane"/>: the TLSA base domain (the SNI name, and
    /// the name reports give) then the other names a DANE-TA(2) certificate may
    /// carry (RFC 7672 §3.2.2: an alias's original and expanded names). Empty: <see cref="PeerName"/>.
    /// </summary>
    public IReadOnlyList<string> DaneNames { get; init; } = [];

    /// <summary>Told each DANE outcome of this connection (the log now, TLS reporting later).</summary>
    public Action<DaneResult, string>? DaneObserve { get; init; }

    /// <summary>Where this connection's TLS result goes for RFC 8460 reports (TlsSessionLog.cs); null: not recorded.</summary>
    public TlsSessionReport? Reporting { get; init; }
}
