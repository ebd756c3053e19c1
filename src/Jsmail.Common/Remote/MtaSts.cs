using System.Net.Sockets;
using System.Text;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.Common.Remote;

/// <summary>The MTA-STS policy a delivery is under: the recipient domain's, and where its findings are logged.</summary>
public sealed record MtaStsDecision(string Domain, MtaStsPolicy Policy, Action<string> Log)
{
    /// <summary>Part of jsmail-rspawn's pool key: a session opened under one rule is not reused under another.</summary>
    public string PoolKey => "sts-" + Policy.Mode;
}

/// <summary>
/// MTA-STS (RFC 8461) for delivery by MX: discovery (the <c>_mta-sts</c> TXT
/// record asked of the MX lookup's DNS servers each delivery, the policy
/// from <see cref="MtaStsCache"/> while its id is current and it has not
/// expired, else fetched by <see cref="MtaStsFetcher"/>; a failed fetch keeps
/// an unexpired cached policy, §5.1), then its application to the MX list:
/// <c>enforce</c> drops the exchangers it does not name and makes TLS
/// verified for the rest (<see cref="Connector.SecurityFor"/>); <c>testing</c>
/// keeps everything and logs what enforce would refuse; <c>none</c> does
/// nothing. Not applied to smtproutes relays or IP literals (the policy is
/// about a domain's MX hosts), to a domain that control/tlsdestinations
/// names (the administrator's word wins), with MTASTS in
/// control/remotedisable, or under JSMAIL_COMPAT=qmail.
/// </summary>
public sealed class MtaSts
{
    /// <summary>Under the qmail home.</summary>
    public const string CacheDirectory = "queue/mta-sts";

    private readonly ILookupClient _dns;
    private readonly MtaStsCache _cache;
    private readonly MtaStsFetcher _fetcher;
    private readonly Action<string> _log;
    private readonly TlsSessionLog? _reporting;

    private MtaSts(RemoteSettings settings, string home, Action<string> log, TlsSessionLog? reporting)
    {
        _reporting = reporting;
        _dns = MailHosts.Client(settings.DnsServers);
        _cache = new MtaStsCache(Path.Combine(home, CacheDirectory));
        _fetcher = new MtaStsFetcher(new MailHosts(_dns, (settings.Features & RemoteFeatures.Aaaa) != 0), settings.TimeoutConnect);
        _log = log;
    }

    /// <summary>
    /// The exchangers to try and the policy they are under (null: none); null
    /// when enforce leaves no exchanger (reported: a temporary failure, the
    /// policy or the MX records may change). <paramref name="log"/> takes a line
    /// without its newline (the program's name is the caller's to add); <paramref name="reporting"/>
    /// is told a policy that could not be had (TLS reporting).
    /// </summary>
    public static (List<MailHost> Hosts, MtaStsDecision? Decision)? Apply(RemoteSettings settings, string home, byte[] host,
        Route? route, List<MailHost> hosts, Report report, Action<string> log, TlsSessionLog? reporting = null)
    {
        if (Domain(settings, host, route) is not { } domain) return (hosts, null);
        var policy = new MtaSts(settings, home, log, reporting).Discover(domain, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        if (policy is not { Mode: not MtaStsMode.None }) return (hosts, null);
        var decision = new MtaStsDecision(domain, policy, log);
        var outside = hosts.Where(h => !policy.Matches(h.Name)).Select(h => h.Name).Distinct().ToList();
        if (policy.Mode == MtaStsMode.Testing)
        {
            foreach (var name in outside) log($"MTA-STS testing for {domain}: {name} matches no mx of the policy; enforce would not use it");
            return (hosts, decision);
        }
        var allowed = hosts.Where(h => policy.Matches(h.Name)).ToList();
        if (allowed.Count == 0)
        {
            report.Add('Z', $"Sorry, the MTA-STS policy of {domain} (mode enforce) names none of its mail exchangers ({string.Join(", ", outside)}). (#4.7.0)\n");
            return null;
        }
        return (allowed, decision);
    }

    /// <summary>The domain MTA-STS applies to, or null where it does not apply.</summary>
    private static string? Domain(RemoteSettings settings, byte[] host, Route? route)
    {
        if (settings.Compat || (settings.Features & RemoteFeatures.MtaSts) == 0 || route != null) return null;
        if (host.AsSpan().IndexOfAnyExceptInRange((byte)0x21, (byte)0x7e) >= 0 || host.Length == 0) return null;
        var domain = Encoding.ASCII.GetString(host).TrimEnd('.').ToLowerInvariant();
        if (MailHosts.Literal(domain, withIpv6: true) != null || domain.StartsWith('[')) return null;
        return NamedInTlsDestinations(settings, Encoding.ASCII.GetBytes(domain)) ? null : domain;
    }

    /// <summary>The host or one of its .suffixes is a key of control/tlsdestinations (the empty key, a default for all, is not).</summary>
    private static bool NamedInTlsDestinations(RemoteSettings settings, ReadOnlySpan<byte> host)
    {
        for (var i = 0; i < host.Length; i++)
            if ((i == 0 || host[i] == '.') && settings.TlsDestinations.TryGetValue(host[i..], out _))
                return true;
        return false;
    }

    /// <summary>RFC 8461 §3 and §5.1: the policy in force for the domain now, or null.</summary>
    private MtaStsPolicy? Discover(string domain, long now)
    {
        var cached = _cache.Read(domain);
        var live = cached is { } c && c.Expires > now ? c : null;
        var id = RecordId(domain);
        // No record (or a DNS failure) does not end a cached policy: removing the record is what an attacker would do.
        if (id == null) return live?.Policy;
        if (live != null && live.Id == id) return live.Policy;
        var text = _fetcher.Fetch(domain, out var why);
        var policy = text == null ? null : MtaStsPolicy.Parse(text, out why);
        if (policy == null || text == null)
        {
            _log($"MTA-STS for {domain}: " + (text == null ? why : $"the policy is not valid: {why}") +
                (live != null ? "; the cached policy stays in force" : "; no policy applies"));
            // RFC 8460 §4.3.2.2; with a cached policy in force, its sessions are what is reported
            if (live == null)
                _reporting?.PolicyFailure(TlsReportPolicy.Sts, text != null ? TlsResultType.StsPolicyInvalid
                    : _fetcher.CertificateFailed ? TlsResultType.StsWebpkiInvalid : TlsResultType.StsPolicyFetchError, "", why);
            return live?.Policy;
        }
        if (!_cache.Write(domain, id, now + policy.MaxAge, text, out var notCached))
            _log($"MTA-STS for {domain}: the policy could not be cached in {_cache.Directory}: {notCached}");
        return policy;
    }

    /// <summary>The id of the domain's MTA-STS TXT record; null for none, an unusable one, or a DNS failure.</summary>
    private string? RecordId(string domain)
    {
        IDnsQueryResponse r;
        try { r = _dns.Query("_mta-sts." + domain + ".", QueryType.TXT); }
        catch (DnsResponseException) { return null; }
        catch (SocketException) { return null; }
        if (r.HasError) return null;
        // The strings of one TXT record make one text.
        return MtaStsPolicy.RecordId(r.Answers.OfType<TxtRecord>().Select(t => string.Concat(t.Text)));
    }
}
