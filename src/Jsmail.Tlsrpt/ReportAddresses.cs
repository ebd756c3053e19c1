using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.Tlsrpt;

/// <summary>
/// Where a policy domain wants its reports (RFC 8460 §3): the TXT record at
/// <c>_smtp._tls.domain</c>, <c>v=TLSRPTv1; rua=mailto:a@b,https://...</c>.
/// Records not starting with v=TLSRPTv1 are not TLSRPT records; unless
/// exactly one remains the domain has none. Only mailto: addresses are used
/// (an https: one is the HTTPS upload, not done here).
/// </summary>
internal static class ReportAddresses
{
    /// <summary>The mailto: addresses; empty for none; null with <paramref name="why"/> when DNS failed.</summary>
    public static List<string>? Lookup(ILookupClient dns, string domain, out string why)
    {
        why = "";
        IDnsQueryResponse r;
        try { r = dns.Query("_smtp._tls." + domain + ".", QueryType.TXT); }
        catch (DnsResponseException e) { why = e.Message; return null; }
        catch (SocketException e) { why = e.Message; return null; }
        if (r.HasError)
        {
            if (r.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain) return [];
            why = r.Header.ResponseCode.ToString();
            return null;
        }
        // The strings of one TXT record make one text.
        return MailtoAddresses(r.Answers.OfType<TxtRecord>().Select(t => string.Concat(t.Text)));
    }

    public static List<string> MailtoAddresses(IEnumerable<string> records)
    {
        var tlsrpt = records.Where(t => t.StartsWith("v=TLSRPTv1", StringComparison.Ordinal)
            && t["v=TLSRPTv1".Length..].TrimStart(' ', '\t').StartsWith(';')).ToList();
        if (tlsrpt.Count != 1) return [];
        var addresses = new List<string>();
        foreach (var field in tlsrpt[0].Split(';').Skip(1))
        {
            var f = field.Trim(' ', '\t');
            var eq = f.IndexOf('=');
            if (eq <= 0 || f[..eq].Trim() != "rua") continue;
            foreach (var uri in f[(eq + 1)..].Split(','))
            {
                var u = uri.Trim(' ', '\t');
                if (!u.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) continue;
                var address = u["mailto:".Length..];
                var query = address.IndexOf('?');
                if (query >= 0) address = address[..query];
                address = Uri.UnescapeDataString(address);
                // one plain address: never an option for jsmail-inject, never a list
                if (address.Length > 0 && address[0] != '-' && address.Contains('@') && !address.Any(c => c is ',' or ' ' or '\t' or '\n' or '\r' or '\0'))
                    addresses.Add(address);
            }
        }
        return addresses;
    }
}
