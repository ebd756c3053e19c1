using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.Common.Remote;

/// <summary>
/// An address to try, with the MX preference it came from (0 for A records and
/// literals) and the name it was found under (what its TLS certificate names).
/// </summary>
public readonly record struct MailHost(IPAddress Address, int Preference, string Name = "");

public enum LookupFailure { None, Soft, Hard, NullMx }

/// <summary>
/// RFC 5321 §5 with DnsClient: MX by preference (equal preferences in random
/// order), the host's own A/AAAA records when it has no MX (implicit MX), null
/// MX (RFC 7505), temporary DNS errors kept apart from "no such name". Answers
/// too large for UDP come over TCP; a truncated answer is never used.
/// </summary>
public sealed class MailHosts(ILookupClient dns, bool withIpv6)
{
    public static ILookupClient Client(IReadOnlyList<IPEndPoint>? servers)
    {
        var ns = servers is { Count: > 0 }
            ? servers.Select(s => new NameServer(s)).ToArray()
            : NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false).ToArray();
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
        });
    }

    /// <summary>Addresses for a relay or an MX-less host: its A (and AAAA) records at preference 0.</summary>
    public (List<MailHost> Hosts, LookupFailure Failure) Addresses(string host)
    {
        var (addresses, failure) = Resolve(host);
        return (addresses.Select(a => new MailHost(a, 0, host)).ToList(), failure);
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
                ? Addresses(domain)
                : ([], LookupFailure.Soft);
        var records = mx.Answers.OfType<MxRecord>().ToList();
        if (records.Count == 0) return Addresses(domain);
        if (records.Count == 1 && records[0].Exchange.Value is "." or "")
            return ([], LookupFailure.NullMx);

        var hosts = new List<MailHost>();
        var soft = false;
        foreach (var group in records.GroupBy(r => (int)r.Preference).OrderBy(g => g.Key))
        {
            foreach (var record in group.OrderBy(_ => Random.Shared.Next()))
            {
                var name = record.Exchange.Value.TrimEnd('.');
                var (addresses, failure) = Resolve(name);
                if (failure == LookupFailure.Soft) soft = true;
                hosts.AddRange(addresses.Select(a => new MailHost(a, group.Key, name)));
            }
        }
        if (hosts.Count == 0 && soft) return ([], LookupFailure.Soft);
        return (hosts, LookupFailure.None);
    }

    private (List<IPAddress> Addresses, LookupFailure Failure) Resolve(string host)
    {
        var result = new List<IPAddress>();
        var failure = LookupFailure.Hard;
        foreach (var type in withIpv6 ? new[] { QueryType.A, QueryType.AAAA } : [QueryType.A])
        {
            IDnsQueryResponse r;
            try { r = dns.Query(Fqdn(host), type); }
            catch (DnsResponseException) { failure = LookupFailure.Soft; continue; }
            catch (SocketException) { failure = LookupFailure.Soft; continue; }
            if (r.HasError)
            {
                if (r.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain) failure = LookupFailure.Soft;
                continue;
            }
            result.AddRange(r.Answers.OfType<ARecord>().Select(a => a.Address));
            result.AddRange(r.Answers.OfType<AaaaRecord>().Select(a => a.Address));
        }
        return result.Count > 0 ? (result, LookupFailure.None) : ([], failure);
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
