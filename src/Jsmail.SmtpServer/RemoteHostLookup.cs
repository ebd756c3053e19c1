using System.Net;
using System.Net.Sockets;
using System.Text;
using DnsClient;
using DnsClient.Protocol;

namespace Jsmail.SmtpServer;

/// <summary>
/// tcpserver's -h and -p done without blocking a thread: the client's name
/// from its PTR record, and, when paranoid, kept only if that name's
/// addresses include the client's. The name is what TCPREMOTEHOST, the
/// rules' <c>=host</c> lines, the log and the Received line see.
/// </summary>
/// <remarks>
/// Any failure (no PTR record, a timeout, a server failure) leaves the name
/// unknown, as tcpserver leaves TCPREMOTEHOST unset: a client is never
/// refused for its DNS. Each lookup is bounded (two tries of three seconds),
/// since the greeting waits for it.
/// </remarks>
public sealed class RemoteHostLookup(ILookupClient dns, bool paranoid)
{
    /// <summary>Longest name kept; a longer answer is no name (RFC 1035's limit is 255).</summary>
    private const int MaxName = 255;

    public static ILookupClient Client(IReadOnlyList<IPEndPoint> servers)
    {
        var ns = servers.Count > 0 ? servers.Select(s => new NameServer(s)).ToArray() : Jsmail.Common.Remote.MailHosts.SystemNameServers();
        return new LookupClient(new LookupClientOptions(ns)
        {
            UseCache = true, // a busy client reconnects often; the answers' own TTLs bound how long
            UseTcpFallback = true,
            Retries = 1,
            Timeout = TimeSpan.FromSeconds(3),
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            Recursion = true,
        });
    }

    /// <summary>The client's name as tcpserver spells it (lower case, other bytes escaped), or null when unknown.</summary>
    public async Task<byte[]?> NameOfAsync(IPAddress client)
    {
        string? name;
        try
        {
            var answer = await dns.QueryReverseAsync(client).ConfigureAwait(false);
            if (answer.HasError) return null;
            name = answer.Answers.PtrRecords().FirstOrDefault()?.PtrDomainName.Value;
        }
        catch (Exception e) when (e is DnsResponseException or SocketException or OperationCanceledException) { return null; }
        if (Spell(name) is not { } spelled) return null;
        if (!paranoid) return spelled;
        return await HasAddressAsync(name!, client).ConfigureAwait(false) ? spelled : null;
    }

    /// <summary>-p: whether the name's A (IPv4 client) or AAAA (IPv6 client) records include the client.</summary>
    private async Task<bool> HasAddressAsync(string name, IPAddress client)
    {
        var type = client.AddressFamily == AddressFamily.InterNetworkV6 ? QueryType.AAAA : QueryType.A;
        try
        {
            var answer = await dns.QueryAsync(name, type).ConfigureAwait(false);
            if (answer.HasError) return false;
            return answer.Answers.OfType<AddressRecord>().Any(a => a.Address.Equals(client));
        }
        catch (Exception e) when (e is DnsResponseException or SocketException or OperationCanceledException) { return false; }
    }

    /// <summary>
    /// A name as djbdns's dns_name gives it to tcpserver: without the final
    /// dot, letters in lower case, and any byte but a-z, 0-9, '-', '_' and the
    /// dots between labels written as a backslash and three octal digits, so
    /// that no byte of a hostile PTR record reaches the environment or a log raw.
    /// </summary>
    public static byte[]? Spell(string? name)
    {
        if (string.IsNullOrEmpty(name) || name == ".") return null;
        if (name.EndsWith('.')) name = name[..^1];
        var o = new List<byte>(name.Length);
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            var c = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
            if (c is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.')
                o.Add(c);
            else
                o.AddRange([(byte)'\\', (byte)('0' + (c >> 6)), (byte)('0' + ((c >> 3) & 7)), (byte)('0' + (c & 7))]);
        }
        return o.Count is 0 or > MaxName ? null : [.. o];
    }
}
