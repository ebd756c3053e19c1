using System.Globalization;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.Common.Remote;

/// <summary>
/// The TLSA records found for a delivery's hosts, by host name: a usable
/// list makes DANE the host's TLS rule (<see cref="Connector.SecurityFor"/>);
/// an empty list (records published, none usable) makes TLS mandatory but
/// unauthenticated (RFC 7672 §2.2). A host not in it has no DANE.
/// </summary>
public sealed record DaneDecision(IReadOnlyDictionary<string, IReadOnlyList<Tlsa>> Records, int Port, Action<string> Log)
{
    /// <summary>
    /// By host name: the names a DANE-TA(2) certificate may carry, the TLSA base
    /// domain (where the records were found) first. A host not in it: its own name.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Names { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public IReadOnlyList<Tlsa>? For(string hostName) => Records.TryGetValue(hostName.ToLowerInvariant(), out var r) ? r : null;

    /// <summary>The host's TLSA base domain, then its other reference identifiers (RFC 7672 §2.2.2, §3.2.2).</summary>
    public IReadOnlyList<string> NamesFor(string hostName) =>
        Names.TryGetValue(hostName.ToLowerInvariant(), out var n) ? n : [hostName];

    /// <summary>The TLSA base domain's owner name, as reports and logs print it.</summary>
    public string Owner(string hostName) => OwnerOf(NamesFor(hostName)[0]);

    private string OwnerOf(string baseDomain) => $"_{Port.ToString(CultureInfo.InvariantCulture)}._tcp.{baseDomain}";

    /// <summary>The owner name of the records at <paramref name="baseDomain"/>.</summary>
    internal string OwnerAt(string baseDomain) => OwnerOf(baseDomain);

    /// <summary>Part of jsmail-rspawn's pool key: a session opened under some records is reused only under the same ones.</summary>
    public string PoolKey => "dane-" + string.Join(";", Records.OrderBy(r => r.Key, StringComparer.Ordinal)
        .Select(r => r.Key + "@" + Owner(r.Key) + "=" + string.Join(",", r.Value)));
}

/// <summary>
/// DANE for SMTP (RFC 7672) before connecting: for each host whose name and
/// addresses came DNSSEC-validated (<see cref="MailHost.Secure"/>: for an MX
/// host the MX answer too, §2.2.1), the TLSA records at
/// <c>_port._tcp.host</c> (for an alias, at its expanded name first, §2.2.2:
/// <see cref="BaseDomains"/>), asked of the control/dnsresolvers servers with the
/// DO bit and trusted only with the AD bit (the resolver must validate: the
/// administrator's to set up). Outcomes per host: secure usable records (DANE),
/// secure records none usable (mandatory TLS), no records or an insecure
/// answer (no DANE), a failed lookup (SERVFAIL: bogus data in a signed zone,
/// or no answer): that host is not used, as §2.2 defers delivery to it.
/// Not done under JSMAIL_COMPAT=qmail, with DANE in control/remotedisable,
/// where control/tlsdestinations' word for the destination is not
/// <c>dane</c>/<c>dane-only</c> (or absent), or for a message with
/// <c>TLS-Required: No</c> (RFC 8689 §4.2.2).
/// </summary>
public static class Dane
{
    /// <summary>Whether DANE can apply at all (the MX lookup then asks for the AD bit).</summary>
    public static bool Enabled(RemoteSettings settings) => !settings.Compat && (settings.Features & RemoteFeatures.Dane) != 0;

    /// <summary>
    /// The hosts still to try and the TLSA records they have (null: none); null
    /// when no host is left (reported: temporary, as the records may be mended).
    /// </summary>
    /// <param name="reporting">told each host whose TLSA lookup failed (RFC 8460's dnssec-invalid)</param>
    public static (List<MailHost> Hosts, DaneDecision? Decision)? Apply(RemoteSettings settings, byte[] host, int port,
        List<MailHost> hosts, MessageTls demand, Report report, Action<string> log, TlsSessionLog? reporting = null)
    {
        var rule = settings.Compat ? DaneRule.Never : TlsPolicy.For(settings.TlsDestinations, host).Dane;
        if (rule == DaneRule.Never || demand == MessageTls.Optional) return (hosts, null);
        var destination = Report.Printable(host);
        if (!Enabled(settings))
        {
            if (rule != DaneRule.Only) return (hosts, null);
            report.Add('Z', $"Sorry, control/tlsdestinations requires DANE (dane-only) for {destination}, but DANE is switched off in control/remotedisable. (#4.7.5)\n");
            return null;
        }

        // made at the first lookup: most deliveries have no host to look up (an address, an unsigned zone)
        ILookupClient? client = null;
        ILookupClient Dns() => client ??= MailHosts.Client(settings.DnsServers, dnssec: true);
        var records = new Dictionary<string, IReadOnlyList<Tlsa>>();
        var names = new Dictionary<string, IReadOnlyList<string>>();
        var failed = new HashSet<string>();
        var decision = new DaneDecision(records, port, log) { Names = names };
        foreach (var h in hosts.Where(h => h.Name.Length > 0).GroupBy(h => h.Name.ToLowerInvariant()).Select(g => g.First()))
        {
            var name = h.Name.ToLowerInvariant();
            if (BaseDomains(Dns, h) is not var (bases, identifiers)) continue;
            foreach (var baseDomain in bases)
            {
                var owner = decision.OwnerAt(baseDomain);
                var found = Lookup(Dns(), owner, out var why);
                if (why != null)
                {
                    failed.Add(name);
                    log($"DANE for {name}: tlsa-invalid: the TLSA lookup of {owner} failed ({why}); this host is not used");
                    reporting?.PolicyFailure(TlsReportPolicy.Tlsa, TlsResultType.DnssecInvalid, name, $"the TLSA lookup of {owner} failed ({why})");
                    break;
                }
                if (found == null) continue; // none there: the original name's, if that is next (§2.2.2)
                var usable = found.Where(r => r.Usable).ToList();
                records[name] = usable;
                names[name] = [baseDomain, .. identifiers.Where(n => !n.Equals(baseDomain, StringComparison.OrdinalIgnoreCase))];
                if (usable.Count == 0)
                    log($"DANE for {name}: tlsa-invalid: none of the TLSA records of {owner} is usable; TLS is required, any certificate");
                break;
            }
        }
        var left = hosts.Where(h => !failed.Contains(h.Name.ToLowerInvariant())
            && (rule != DaneRule.Only || decision.For(h.Name) is { Count: > 0 })).ToList();
        if (left.Count > 0) return (left, records.Count > 0 ? decision : null);

        var exchangers = string.Join(", ", hosts.Select(h => h.Name).Distinct());
        report.Add('Z', failed.Count > 0
            ? $"Sorry, the TLSA records of the mail exchangers of {destination} ({exchangers}) could not be looked up securely (DNSSEC). (#4.7.5)\n"
            : $"Sorry, control/tlsdestinations requires DANE (dane-only) for {destination}, and none of its mail exchangers ({exchangers}) has usable TLSA records. (#4.7.5)\n");
        return null;
    }

    /// <summary>
    /// RFC 7672 §2.2.2 for one host: where its TLSA records are looked for, in
    /// order, and the names its certificate may carry (§3.2.2); null: no DANE.
    /// A validated host that is no alias: its own name. One whose CNAME chain
    /// validated too (the whole answer had the AD bit): the fully expanded name
    /// first, then the original; either name is a reference identifier. A
    /// validated name (MX) whose expansion is not (the alias leads into an
    /// unsigned zone): the original name alone, if its CNAME record itself
    /// validates, as nothing learnt past it can be trusted. Anything else: no DANE.
    /// </summary>
    private static (string[] Bases, string[] Identifiers)? BaseDomains(Func<ILookupClient> dns, MailHost host)
    {
        var name = host.Name.ToLowerInvariant();
        var alias = host.Alias.ToLowerInvariant();
        if (host.Secure) return alias.Length == 0 ? ([name], [name]) : ([alias, name], [name, alias]);
        return host.NameSecure && alias.Length > 0 && SecureAlias(dns(), name) ? ([name], [name]) : null;
    }

    /// <summary>Whether the name's own CNAME record comes validated (asked for alone: the resolver does not follow it then).</summary>
    private static bool SecureAlias(ILookupClient dns, string name)
    {
        try
        {
            var r = dns.Query(name + ".", QueryType.CNAME);
            return !r.HasError && r.Header.IsAuthenticData && r.Answers.OfType<CNameRecord>().Any();
        }
        catch (DnsResponseException) { return false; }
        catch (SocketException) { return false; }
    }

    /// <summary>
    /// The TLSA records at <paramref name="owner"/> when validated, null when
    /// there are none or they are not validated; <paramref name="why"/> set when
    /// the lookup failed (which a validating resolver also says of bogus data).
    /// </summary>
    private static List<Tlsa>? Lookup(ILookupClient dns, string owner, out string? why)
    {
        why = null;
        IDnsQueryResponse r;
        try { r = dns.Query(owner + ".", QueryType.TLSA); }
        catch (DnsResponseException e) { why = e.Message; return null; }
        catch (SocketException e) { why = e.Message; return null; }
        if (r.HasError)
        {
            if (r.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain) return null;
            why = r.Header.ResponseCode switch
            {
                DnsHeaderResponseCode.ServerFailure => "SERVFAIL", // RFC 1035's mnemonics, as dig prints them
                DnsHeaderResponseCode.Refused => "REFUSED",
                DnsHeaderResponseCode.FormatError => "FORMERR",
                var code => "rcode " + ((int)code).ToString(CultureInfo.InvariantCulture),
            };
            return null;
        }
        if (!r.Header.IsAuthenticData) return null;
        var list = r.Answers.OfType<TlsaRecord>().Select(t => new Tlsa((byte)t.CertificateUsage, (byte)t.Selector, (byte)t.MatchingType,
            t.CertificateAssociationData.ToArray())).ToList();
        return list.Count > 0 ? list : null;
    }

    /// <summary>RFC 8460's result type for the log (and TLS reporting).</summary>
    public static string Word(DaneResult result) => result switch
    {
        DaneResult.Success => "success",
        DaneResult.TlsaInvalid => "tlsa-invalid",
        DaneResult.CertificateMismatch => "validation-failure",
        DaneResult.StartTlsNotSupported => "starttls-not-supported",
        _ => result.ToString(),
    };
}
