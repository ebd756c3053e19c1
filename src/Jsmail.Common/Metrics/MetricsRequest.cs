using System.Text;

namespace Jsmail.Common.Metrics;

/// <summary>
/// The little HTTP/1.1 a metrics endpoint speaks, as a pure function of bytes:
/// which request a head is, and the whole response to it (status line, the
/// headers a scraper needs, <c>Connection: close</c>, the body).
/// </summary>
public static class MetricsRequest
{
    public enum Kind { Metrics, MetricsHead, NotFound, MethodNotAllowed, BadRequest, TooLarge }

    /// <summary>The exposition's media type: Prometheus text format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static Kind Parse(ReadOnlySpan<byte> head)
    {
        var end = head.IndexOf((byte)'\n');
        if (end < 0) return head.Length > MetricsResponder.MaxRequestBytes ? Kind.TooLarge : Kind.BadRequest;
        if (head.IndexOf("\r\n\r\n"u8) < 0 && head.IndexOf("\n\n"u8) < 0 && head.Length > MetricsResponder.MaxRequestBytes) return Kind.TooLarge;
        var line = head[..end].TrimEnd((byte)'\r');
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0) return Kind.BadRequest;
        var method = line[..sp1];
        var rest = line[(sp1 + 1)..];
        var sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0 || !rest[(sp2 + 1)..].StartsWith("HTTP/1."u8)) return Kind.BadRequest;
        var target = rest[..sp2];
        var query = target.IndexOf((byte)'?');
        var path = query >= 0 ? target[..query] : target;
        var get = method.SequenceEqual("GET"u8);
        if (!get && !method.SequenceEqual("HEAD"u8)) return Kind.MethodNotAllowed;
        if (!path.SequenceEqual("/metrics"u8)) return Kind.NotFound;
        return get ? Kind.Metrics : Kind.MetricsHead;
    }

    /// <summary>The response: <paramref name="body"/> is the exposition for Metrics and MetricsHead (sent for GET only).</summary>
    public static byte[] Response(Kind kind, byte[]? body)
    {
        var (status, type, text) = kind switch
        {
            Kind.Metrics or Kind.MetricsHead => ("200 OK", ContentType, body ?? []),
            Kind.NotFound => ("404 Not Found", "text/plain; charset=utf-8", "metrics are at /metrics\n"u8.ToArray()),
            Kind.MethodNotAllowed => ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n"u8.ToArray()),
            Kind.TooLarge => ("431 Request Header Fields Too Large", "text/plain; charset=utf-8", "request too large\n"u8.ToArray()),
            _ => ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray()),
        };
        var allow = kind == Kind.MethodNotAllowed ? "Allow: GET, HEAD\r\n" : "";
        var headers = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {text.Length}\r\n{allow}Connection: close\r\n\r\n");
        return kind == Kind.MetricsHead ? headers : [.. headers, .. text];
    }
}
