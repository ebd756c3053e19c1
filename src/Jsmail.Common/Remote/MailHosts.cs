using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.Common.Remote;

/// <summary>
/// An address to try, with the MX preference it came from (0 for A records and
/// literals) and the name it was found under (what its TLS certificate names).
/// <paramref name="Secure"/>: the name and its addresses came DNSSEC-validated
/// (the AD bit of every answer that led here), which DANE needs (RFC 7672 §2.2).
/// <paramref name="Alias"/>: the name's CNAME target, fully expanded, when its
/// addresses came through a CNAME chain (else empty); <paramref name="NameSecure"/>:
/// the name itself is trusted (named by a validated MX answer; the domain
/// itself after a validated denial of MX records; an smtproutes relay), whatever
/// its addresses: both for DANE's TLSA base domain (RFC 7672 §2.2.2).
/// </summary>
public readonly record struct MailHost(IPAddress Address, int Preference, string Name = "", bool Secure = false,
    string Alias = "", bool NameSecure = false);

public enum LookupFailure { None, Soft, Hard, NullMx }

/// <summary>
/// RFC 5321 §5 with DnsClient: MX by preference (equal preferences in random
/// order), each exchanger's A and AAAA records (<see cref="Interleave"/>), the
/// host's own A/AAAA records when it has no MX (implicit MX), null
/// MX (RFC 7505), temporary DNS errors kept apart from "no such name". Answers
/// too large for UDP come over TCP; a truncated answer is never used. With a
/// client made with <c>dnssec</c>, each host is marked secure when every answer
/// on its way had the AD bit (<see cref="MailHost.Secure"/>).
/// </summary>
public sealed class MailHosts(ILookupClient dns, bool withIpv6)
{
    /// <param name="dnssec">
    /// ask with the DO bit, so that a validating resolver tells (the AD bit)
    /// which answers it validated; what the answers hold is the same
    /// </param>
    public static ILookupClient Client(IReadOnlyList<IPEndPoint>? servers, bool dnssec = false)
    {
        var ns = servers is { Count: > 0 } ? servers.Select(s => new NameServer(s)).ToArray() : SystemNameServers();
        return new LookupClient(new LookupClientOptions(ns)
        {
            UseCache = false,
            UseTcpFallback = true,
            Retries = 2,
            Timeout = TimeSpan.FromSeconds(5),
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            ContinueOnEmptyResponse = false,
            Recursion = true,
            RequestDnsSecRecords = dnssec,
        });
    }

    /// <summary>
    /// The system's name servers (resolv.conf, then the interfaces); where
    /// none can be found or read now (out of descriptors, say), 127.0.0.1, as
    /// the C resolver asks without a resolv.conf: the lookups then fail as DNS
    /// failures do (temporary), never as an exception that ends the program.
    /// </summary>
    public static NameServer[] SystemNameServers()
    {
        NameServer[] found = [];
        try { found = NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false)?.ToArray() ?? []; }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException) { }
        return found.Length > 0 ? found : [new NameServer(IPAddress.Loopback, 53)];
    }

    /// <summary>Addresses for a relay or an MX-less host: its A (and AAAA) records at preference 0.</summary>
    public (List<MailHost> Hosts, LookupFailure Failure) Addresses(string host) => Addresses(host, true);

    /// <param name="secureSoFar">whether what led to this name (a denied MX lookup) was validated</param>
    private (List<MailHost> Hosts, LookupFailure Failure) Addresses(string host, bool secureSoFar)
    {
        var (addresses, failure, secure, alias) = Resolve(host);
        return (addresses.Select(a => new MailHost(a, 0, host, secureSoFar && secure, alias, secureSoFar)).ToList(), failure);
    }

    /// <summary>The MX list for a domain, falling back to the domain's own addresses.</summary>
    public (List<MailHost> Hosts, LookupFailure Failure) Exchangers(string domain)
    {
        IDnsQueryResponse mx;
        try { mx = dns.Query(Fqdn(domain), QueryType.MX); }
        catch (DnsResponseException) { return ([], LookupFailure.Soft); }
        catch (SocketException) { return ([], LookupFailure.Soft); }

        if (mx.HasError)
            return mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                ? Addresses(domain, mx.Header.IsAuthenticData)
                : ([], LookupFailure.Soft);
        var records = mx.Answers.OfType<MxRecord>().ToList();
        if (records.Count == 0) return Addresses(domain, mx.Header.IsAuthenticData);
        if (records.Count == 1 && records[0].Exchange.Value is "." or "")
            return ([], LookupFailure.NullMx);

        var hosts = new List<MailHost>();
        var soft = false;
        foreach (var group in records.GroupBy(r => (int)r.Preference).OrderBy(g => g.Key))
        {
            foreach (var record in group.OrderBy(_ => Random.Shared.Next()))
            {
                var name = record.Exchange.Value.TrimEnd('.');
                var (addresses, failure, secure, alias) = Resolve(name);
                if (failure == LookupFailure.Soft) soft = true;
                // RFC 7672 §2.2.1: an MX host named by an insecure MX RRset is no DANE candidate, whatever its own zone.
                hosts.AddRange(addresses.Select(a => new MailHost(a, group.Key, name, mx.Header.IsAuthenticData && secure,
                    alias, mx.Header.IsAuthenticData)));
            }
        }
        if (hosts.Count == 0 && soft) return ([], LookupFailure.Soft);
        return (hosts, LookupFailure.None);
    }

    /// <summary>
    /// A host's addresses: its A records, and with <c>withIpv6</c> its AAAA
    /// records, in the order of <see cref="Interleave"/>. A name with records of
    /// one family and an error for the other is usable; with none, a temporary
    /// error of either lookup makes the whole temporary. Secure: each answer that gave addresses had the AD bit.
    /// Alias: where the answers' CNAME chain ends, when the host is an alias.
    /// </summary>
    private (List<IPAddress> Addresses, LookupFailure Failure, bool Secure, string Alias) Resolve(string host)
    {
        var failure = LookupFailure.Hard;
        var secure = true;
        var alias = "";
        var v4 = Query(host, QueryType.A, ref failure, ref secure, ref alias);
        var v6 = withIpv6 ? Query(host, QueryType.AAAA, ref failure, ref secure, ref alias) : [];
        var result = Interleave(v6, v4);
        return result.Count > 0 ? (result, LookupFailure.None, secure, alias) : ([], failure, false, "");
    }

    private List<IPAddress> Query(string host, QueryType type, ref LookupFailure failure, ref bool secure, ref string alias)
    {
        IDnsQueryResponse r;
        try { r = dns.Query(Fqdn(host), type); }
        catch (DnsResponseException) { failure = LookupFailure.Soft; return []; }
        catch (SocketException) { failure = LookupFailure.Soft; return []; }
        if (r.HasError)
        {
            if (r.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain) failure = LookupFailure.Soft;
            return [];
        }
        if (r.Answers.Count > 0 && !r.Header.IsAuthenticData) secure = false;
        // A CNAME chain comes in the same answer (the server follows it): its end is the name DANE looks at first.
        if (alias.Length == 0 && Expanded(host, r.Answers.OfType<CNameRecord>().ToList()) is { } end) alias = end;
        return type == QueryType.A
            ? r.Answers.OfType<ARecord>().Select(a => a.Address).ToList()
            : r.Answers.OfType<AaaaRecord>().Select(a => a.Address).ToList();
    }

    /// <summary>
    /// Where <paramref name="host"/>'s CNAME chain in one answer ends (without
    /// the final dot); null when the host is no alias. Bounded by the records'
    /// number, so a loop in a broken answer ends too.
    /// </summary>
    public static string? Expanded(string host, IReadOnlyList<CNameRecord> chain)
    {
        var at = Fqdn(host);
        for (var i = 0; i < chain.Count; i++)
        {
            var next = chain.FirstOrDefault(c => string.Equals(c.DomainName.Value, at, StringComparison.OrdinalIgnoreCase));
            if (next == null) break;
            at = next.CanonicalName.Value;
        }
        return string.Equals(at, Fqdn(host), StringComparison.OrdinalIgnoreCase) ? null : at.TrimEnd('.');
    }

    /// <summary>
    /// One host's addresses in the order they are tried: the families
    /// alternate, IPv6 first (RFC 6555 §4, RFC 8305 §4), each family in the
    /// order DNS gave it. A host with one family is that family's list. The
    /// MX preferences still come first (RFC 5321 §5.1): this orders the
    /// addresses of one exchanger only.
    /// </summary>
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> v6, IReadOnlyList<IPAddress> v4)
    {
        var result = new List<IPAddress>(v6.Count + v4.Count);
        for (var i = 0; i < Math.Max(v6.Count, v4.Count); i++)
        {
            if (i < v6.Count) result.Add(v6[i]);
            if (i < v4.Count) result.Add(v4[i]);
        }
        return result;
    }

    private static string Fqdn(string host) => host.EndsWith('.') ? host : host + ".";

    /// <summary>A dotted quad, with or without brackets, or an [IPv6:...] literal (jsmail only).</summary>
    public static IPAddress? Literal(string host, bool withIpv6)
    {
        var h = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (withIpv6 && h.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase) &&
            IPAddress.TryParse(h[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
            return v6;
        var parts = h.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit))) return null;
        return IPAddress.TryParse(h, out var v4) ? v4 : null;
    }
}
