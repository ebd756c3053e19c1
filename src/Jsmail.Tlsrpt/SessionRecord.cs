using System.Text.Json;

namespace Jsmail.Tlsrpt;

/// <summary>
/// One line of a queue/tlsrpt day file (Jsmail.Common's TlsSessionLog wrote
/// it): a TLS session's policy and result, with RFC 8460's member names.
/// </summary>
internal sealed record SessionRecord(string PolicyType, string PolicyDomain, IReadOnlyList<string> PolicyString, IReadOnlyList<string> MxHost,
    string ResultType, string ReceivingMxHostname, string? ReceivingIp, string? SendingMtaIp, string? FailureReasonCode)
{
    public bool Successful => ResultType == "success";

    /// <summary>The policy as one comparable text: sessions under the same policy are counted together (§4.4: one entry per policy).</summary>
    public string PolicyKey => PolicyType + "\n" + PolicyDomain + "\n" + string.Join("\u0001", PolicyString) + "\n" + string.Join("\u0001", MxHost);

    /// <summary>A line as written, or null for one that is not (a torn or foreign line is skipped, not fatal).</summary>
    public static SessionRecord? Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) return null;
            string? Text(string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            List<string> List(string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
                ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList() : [];
            if (Text("policy-type") is not { } type || Text("policy-domain") is not { Length: > 0 } domain
                || Text("result-type") is not { } result) return null;
            var mx = Text("receiving-mx-hostname") ?? ""; // none for a policy that could not be had (no MX host was reached)
            return new SessionRecord(type, domain, List("policy-string"), List("mx-host"), result, mx,
                Text("receiving-ip"), Text("sending-mta-ip"), Text("failure-reason-code"));
        }
        catch (JsonException) { return null; }
    }
}
