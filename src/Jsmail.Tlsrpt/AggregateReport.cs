using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Jsmail.Tlsrpt;

/// <summary>Who reports: RFC 8460 §4.4's organization-name and contact-info, and the submitter (control/me) that names files and mail.</summary>
internal sealed record Reporter(string Organization, string Contact, string Submitter);

/// <summary>
/// One policy domain's report for one UTC day (RFC 8460 §4.4): the sessions
/// grouped by the policy they were under, each policy with its success and
/// failure counts and its failures grouped by result type, sending and
/// receiving address, MX host and reason.
/// </summary>
internal sealed class AggregateReport(Reporter reporter, DateOnly day, string domain, IReadOnlyList<SessionRecord> sessions)
{
    public DateTimeOffset Start => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>The day's last second: RFC 8460's example ends a day at 23:59:59Z.</summary>
    public DateTimeOffset End => Start.AddDays(1).AddSeconds(-1);

    /// <summary>The same day and domain give the same id (a second run recognizes its report).</summary>
    public string ReportId => $"{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.{domain}@{reporter.Submitter}";

    /// <summary>§5.1: <c>submitter!policy-domain!begin-timestamp!end-timestamp.json.gz</c>, in seconds since the epoch.</summary>
    public string FileName => $"{reporter.Submitter}!{domain}!{Start.ToUnixTimeSeconds()}!{End.ToUnixTimeSeconds()}.json.gz";

    public int Successes => sessions.Count(s => s.Successful);
    public int Failures => sessions.Count(s => !s.Successful);

    public byte[] Json()
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("organization-name", reporter.Organization);
            json.WriteStartObject("date-range");
            json.WriteString("start-datetime", Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteString("end-datetime", End.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteString("contact-info", reporter.Contact);
            json.WriteString("report-id", ReportId);
            json.WriteStartArray("policies");
            foreach (var policy in sessions.GroupBy(s => s.PolicyKey)) WritePolicy(json, policy.ToList());
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WritePolicy(Utf8JsonWriter json, List<SessionRecord> sessions)
    {
        var first = sessions[0];
        json.WriteStartObject();
        json.WriteStartObject("policy");
        json.WriteString("policy-type", first.PolicyType);
        if (first.PolicyString.Count > 0)
        {
            json.WriteStartArray("policy-string");
            foreach (var s in first.PolicyString) json.WriteStringValue(s);
            json.WriteEndArray();
        }
        json.WriteString("policy-domain", first.PolicyDomain);
        if (first.MxHost.Count > 0)
        {
            json.WriteStartArray("mx-host");
            foreach (var m in first.MxHost) json.WriteStringValue(m);
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteStartObject("summary");
        json.WriteNumber("total-successful-session-count", sessions.Count(s => s.Successful));
        json.WriteNumber("total-failure-session-count", sessions.Count(s => !s.Successful));
        json.WriteEndObject();
        var failures = sessions.Where(s => !s.Successful)
            .GroupBy(s => (s.ResultType, s.SendingMtaIp, s.ReceivingMxHostname, s.ReceivingIp, s.FailureReasonCode)).ToList();
        if (failures.Count > 0)
        {
            json.WriteStartArray("failure-details");
            foreach (var f in failures)
            {
                json.WriteStartObject();
                json.WriteString("result-type", f.Key.ResultType);
                if (f.Key.SendingMtaIp != null) json.WriteString("sending-mta-ip", f.Key.SendingMtaIp);
                if (f.Key.ReceivingMxHostname.Length > 0) json.WriteString("receiving-mx-hostname", f.Key.ReceivingMxHostname);
                if (f.Key.ReceivingIp != null) json.WriteString("receiving-ip", f.Key.ReceivingIp);
                json.WriteNumber("failed-session-count", f.Count());
                if (f.Key.FailureReasonCode != null) json.WriteString("failure-reason-code", f.Key.FailureReasonCode);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    public static byte[] Gzip(byte[] data)
    {
        var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal)) gz.Write(data);
        return buffer.ToArray();
    }
}
