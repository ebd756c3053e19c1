using System.IO.Compression;
using Jsmail.TestSupport;
using MimeKit;

namespace Jsmail.Remote.Tests;

/// <summary>
/// RFC 8460 §4.4's report as a JSON Schema (draft 7), written from the RFC's
/// member list: the required members, §4.4's policy types and §4.3's result
/// types as the only values, counts as non-negative integers, addresses by
/// format, and no member the RFC does not name. Checked by python3-jsonschema
/// (Debian's), with its format checker.
/// </summary>
public static class ReportSchema
{
    public const string Schema = """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "required": ["organization-name", "date-range", "contact-info", "report-id", "policies"],
          "additionalProperties": false,
          "properties": {
            "organization-name": {"type": "string", "minLength": 1},
            "date-range": {
              "type": "object",
              "required": ["start-datetime", "end-datetime"],
              "additionalProperties": false,
              "properties": {
                "start-datetime": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"},
                "end-datetime": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
              }
            },
            "contact-info": {"type": "string", "minLength": 1},
            "report-id": {"type": "string", "minLength": 1},
            "policies": {
              "type": "array",
              "items": {
                "type": "object",
                "required": ["policy", "summary"],
                "additionalProperties": false,
                "properties": {
                  "policy": {
                    "type": "object",
                    "required": ["policy-type", "policy-domain"],
                    "additionalProperties": false,
                    "properties": {
                      "policy-type": {"enum": ["tlsa", "sts", "no-policy-found"]},
                      "policy-string": {"type": "array", "items": {"type": "string"}},
                      "policy-domain": {"type": "string", "minLength": 1},
                      "mx-host": {"type": "array", "items": {"type": "string"}}
                    }
                  },
                  "summary": {
                    "type": "object",
                    "required": ["total-successful-session-count", "total-failure-session-count"],
                    "additionalProperties": false,
                    "properties": {
                      "total-successful-session-count": {"type": "integer", "minimum": 0},
                      "total-failure-session-count": {"type": "integer", "minimum": 0}
                    }
                  },
                  "failure-details": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": ["result-type", "failed-session-count"],
                      "additionalProperties": false,
                      "properties": {
                        "result-type": {"enum": ["starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                          "certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
                          "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"]},
                        "sending-mta-ip": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                        "receiving-mx-hostname": {"type": "string"},
                        "receiving-mx-helo": {"type": "string"},
                        "receiving-ip": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                        "failed-session-count": {"type": "integer", "minimum": 0},
                        "additional-information": {"type": "string"},
                        "failure-reason-code": {"type": "string"}
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """;

    private const string Validator = """
        import gzip, json, sys, jsonschema
        schema = json.loads(sys.argv[1])
        with gzip.open(sys.argv[2], 'rb') as f:
            report = json.loads(f.read().decode('utf-8'))
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
        for e in errors:
            print('/'.join(str(p) for p in e.path) + ': ' + e.message)
        sys.exit(1 if errors else 0)
        """;

    /// <summary>What the validator finds wrong with a gzipped report: empty when it is valid.</summary>
    public static string Problems(string gzippedReport)
    {
        var r = Run.Process("/usr/bin/python3", ["-c", Validator, Schema, gzippedReport], timeoutMs: 60_000);
        if (r.ExitCode is not (0 or 1)) throw new InvalidOperationException("the validator did not run: " + r.Err);
        return r.ExitCode == 0 ? "" : r.Out + r.Err;
    }
}

/// <summary>An RFC 8460 §5.3 report mail, checked part by part.</summary>
public static class ReportMessage
{
    public static void Check(MimeMessage message, string domain, string submitter, int expectedSuccesses)
    {
        message.Headers["TLS-Report-Domain"].Should().Be(domain);
        message.Headers["TLS-Report-Submitter"].Should().Be(submitter);
        message.Subject.Should().MatchRegex($@"^Report Domain: {domain.Replace(".", @"\.")} Submitter: {submitter.Replace(".", @"\.")} Report-ID: <[^>]+>$");
        var report = message.Body.Should().BeOfType<MultipartReport>().Subject;
        report.ReportType.Should().Be("tlsrpt");
        report.Should().HaveCount(2);
        report[0].ContentType.MimeType.Should().Be("text/plain");
        var attachment = report[1].Should().BeOfType<MimePart>().Subject;
        attachment.ContentType.MimeType.Should().Be("application/tlsrpt+gzip");
        attachment.ContentTransferEncoding.Should().Be(ContentEncoding.Base64);
        attachment.ContentDisposition!.Disposition.Should().Be(ContentDisposition.Attachment);
        attachment.FileName.Should().StartWith($"{submitter}!{domain}!").And.EndWith(".json.gz");

        var gzipped = new MemoryStream();
        attachment.Content!.DecodeTo(gzipped);
        using var temp = new TempDir("jsmail-tlsrpt-mail");
        File.WriteAllBytes(temp["report.json.gz"], gzipped.ToArray());
        ReportSchema.Problems(temp["report.json.gz"]).Should().BeEmpty();
        using var json = new GZipStream(new MemoryStream(gzipped.ToArray()), CompressionMode.Decompress);
        var parsed = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        parsed["policies"]![0]!["summary"]!["total-successful-session-count"]!.GetValue<int>().Should().Be(expectedSuccesses);
        var id = parsed["report-id"]!.GetValue<string>();
        message.MessageId.Should().Be(id);
        message.Subject.Should().EndWith($"Report-ID: <{id}>");
    }
}
