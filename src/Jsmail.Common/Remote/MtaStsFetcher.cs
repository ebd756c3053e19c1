using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>
/// Fetches <c>https://mta-sts.&lt;domain&gt;/.well-known/mta-sts.txt</c> (RFC
/// 8461 §3.3): the host resolved by the same DNS servers as the MX lookup
/// (<see cref="MailHosts"/>, not the system's resolver, so both see one
/// view of DNS), the certificate verified for mta-sts.&lt;domain&gt; against
/// the system's roots (SSL_CERT_FILE and SSL_CERT_DIR choose them, as for
/// OpenSSL), no redirect followed, no proxy, no HTTP cache, status 200 and
/// media type text/plain only, at most <see cref="MaxBytes"/> bytes, the
/// whole fetch within <see cref="TimeoutSeconds"/>.
/// </summary>
public sealed class MtaStsFetcher(MailHosts dns, int connectTimeoutSeconds)
{
    /// <summary>RFC 8461 §3.3 suggests 64 KiB: a policy is a few lines.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>RFC 8461 §3.3 suggests a minute.</summary>
    public const int TimeoutSeconds = 60;

    /// <summary>The last fetch failed because the policy host's certificate is not good (RFC 8460's sts-webpki-invalid).</summary>
    public bool CertificateFailed { get; private set; }

    /// <summary>The policy text, or null with <paramref name="why"/> (for the log).</summary>
    public string? Fetch(string domain, out string why)
    {
        CertificateFailed = false;
        var host = "mta-sts." + domain;
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(connectTimeoutSeconds, TimeoutSeconds)),
            ConnectCallback = (context, token) => new ValueTask<Stream>(Connect(context.DnsEndPoint, token)),
            MaxResponseHeadersLength = 16, // KiB
        };
        string? certificateProblem = null;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, chain, errors) =>
        {
            if (errors != System.Net.Security.SslPolicyErrors.None) certificateProblem = MtaStsObserver.Problem(errors, chain, host);
            return errors == System.Net.Security.SslPolicyErrors.None;
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(TimeoutSeconds), MaxResponseContentBufferSize = MaxBytes };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}/.well-known/mta-sts.txt");
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(TimeoutSeconds));
            using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                why = $"https://{host}/ answered HTTP {(int)response.StatusCode}" + (IsRedirect(response.StatusCode) ? " (a redirect, which MTA-STS does not follow)" : "");
                return null;
            }
            if (response.Content.Headers.ContentType?.MediaType is not { } type || !type.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            {
                why = $"https://{host}/ served the policy as {response.Content.Headers.ContentType?.MediaType ?? "no media type"}, not text/plain";
                return null;
            }
            if (response.Content.Headers.ContentLength > MaxBytes) { why = $"the policy at {host} is over {MaxBytes} bytes"; return null; }
            using var body = response.Content.ReadAsStream(cancel.Token);
            var buffer = new byte[MaxBytes + 1];
            var length = 0;
            while (length < buffer.Length)
            {
                var n = body.Read(buffer, length, buffer.Length - length);
                if (n == 0) break;
                length += n;
            }
            if (length > MaxBytes) { why = $"the policy at {host} is over {MaxBytes} bytes"; return null; }
            why = "";
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or SocketException)
        {
            CertificateFailed = certificateProblem != null;
            why = certificateProblem != null
                ? $"the policy host's certificate is not good: {certificateProblem}"
                : $"fetching https://{host}/.well-known/mta-sts.txt failed: {Innermost(e)}";
            return null;
        }
    }

    private static bool IsRedirect(HttpStatusCode code) => (int)code is >= 300 and < 400;

    /// <summary>The host's addresses from our DNS servers, tried in turn.</summary>
    private async Task<Stream> Connect(DnsEndPoint endpoint, CancellationToken token)
    {
        var (hosts, _) = dns.Addresses(endpoint.Host);
        if (hosts.Count == 0) throw new HttpRequestException($"{endpoint.Host} has no address");
        SocketException? last = null;
        foreach (var h in hosts)
        {
            var socket = new Socket(h.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(h.Address, endpoint.Port), token).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"no address of {endpoint.Host} accepted a connection ({last?.Message})");
    }

    private static string Innermost(Exception e)
    {
        var texts = new List<string>();
        for (var x = e; x != null; x = x.InnerException) texts.Add(x.Message.Replace('\n', ' ').Replace('\r', ' ').TrimEnd('.', ' '));
        return string.Join(": ", texts.Distinct());
    }
}
