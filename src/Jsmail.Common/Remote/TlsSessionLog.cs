using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

/// <summary>
/// The policy a session was under, as RFC 8460 §4.4's "policy" object names
/// it: <c>sts</c> (the MTA-STS policy's lines and mx patterns), <c>tlsa</c>
/// (the MX host's TLSA records and its name) or <c>no-policy-found</c>.
/// </summary>
public sealed record TlsReportPolicy(string Type, string Domain, IReadOnlyList<string> Strings, IReadOnlyList<string> MxHost)
{
    public const string Sts = "sts", Tlsa = "tlsa", NoPolicyFound = "no-policy-found";

    /// <summary>An MTA-STS policy as RFC 8460 §4.4 writes it: the policy file's lines (max_age as the policy gave it, at most a year).</summary>
    public static TlsReportPolicy Of(MtaStsDecision sts) => new(Sts, sts.Domain,
        ["version: STSv1", "mode: " + sts.Policy.Mode.ToString().ToLowerInvariant(), .. sts.Policy.Mx.Select(m => "mx: " + m),
            "max_age: " + sts.Policy.MaxAge.ToString(CultureInfo.InvariantCulture)], sts.Policy.Mx);
}

/// <summary>RFC 8460 §4.3's result types, and the one for a session that established TLS as its policy asks.</summary>
public static class TlsResultType
{
    public const string Success = "success", StartTlsNotSupported = "starttls-not-supported",
        CertificateHostMismatch = "certificate-host-mismatch", CertificateExpired = "certificate-expired",
        CertificateNotTrusted = "certificate-not-trusted", ValidationFailure = "validation-failure",
        TlsaInvalid = "tlsa-invalid", DnssecInvalid = "dnssec-invalid",
        StsPolicyFetchError = "sts-policy-fetch-error", StsPolicyInvalid = "sts-policy-invalid", StsWebpkiInvalid = "sts-webpki-invalid";

    /// <summary>What a certificate that does not verify for the MX host's name (WebPKI) is, in §4.3.1's words.</summary>
    public static string Of(SslPolicyErrors errors, X509Chain? chain)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            return chain != null && chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.NotTimeValid))
                ? CertificateExpired : CertificateNotTrusted;
        return errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) ? CertificateHostMismatch : ValidationFailure;
    }
}

/// <summary>
/// The record of TLS sessions that jsmail-tlsrpt turns into RFC 8460
/// reports: one line per session, a JSON object, appended (O_APPEND, one
/// write(2), so that the processes and threads of both remote paths never
/// mix their lines) to <c>queue/tlsrpt/YYYY-MM-DD</c>, the session's UTC day.
/// jsmail-remote is a process per delivery, so the counts live on disk, not
/// in memory. Recorded only for delivery by the recipient domain's own MX
/// hosts (not an smtproutes relay or an IP literal: a report about a relay
/// would go to the wrong domain), with TLSRPT not in control/remotedisable,
/// and never under JSMAIL_COMPAT=qmail. A line that cannot be written is told
/// to the log and the delivery goes on: reporting never holds mail back.
/// </summary>
public sealed class TlsSessionLog
{
    /// <summary>Under the qmail home; qmailr's, like queue/mta-sts.</summary>
    public const string Directory = "queue/tlsrpt";

    private readonly string _directory;
    private readonly Action<string> _log;

    /// <summary>The recipient domain, lower case, without a final dot: every policy's policy-domain.</summary>
    public string Domain { get; }

    private TlsSessionLog(string directory, string domain, Action<string> log)
    {
        _directory = directory;
        Domain = domain;
        _log = log;
    }

    /// <summary>The log for a delivery to <paramref name="host"/>, or null where nothing is recorded.</summary>
    public static TlsSessionLog? For(RemoteSettings settings, string home, byte[] host, Route? route, Action<string> log)
    {
        if (settings.Compat || (settings.Features & RemoteFeatures.TlsReporting) == 0 || route != null) return null;
        if (host.Length == 0 || host.AsSpan().IndexOfAnyExceptInRange((byte)0x21, (byte)0x7e) >= 0 || host[0] == '[') return null;
        var domain = Encoding.ASCII.GetString(host).TrimEnd('.').ToLowerInvariant();
        if (domain.Length == 0 || MailHosts.Literal(domain, withIpv6: true) != null) return null;
        return new TlsSessionLog(Path.Combine(home, Directory), domain, log);
    }

    /// <summary>The policy a candidate's session is under: its TLSA records, else the domain's MTA-STS policy, else none.</summary>
    public TlsSessionReport Session(MailHost candidate, MtaStsDecision? sts, IReadOnlyList<Tlsa>? tlsa)
    {
        var policy = tlsa != null
            ? new TlsReportPolicy(TlsReportPolicy.Tlsa, Domain, tlsa.Select(t => t.ToString()).ToList(), [candidate.Name.TrimEnd('.').ToLowerInvariant()])
            : sts != null ? TlsReportPolicy.Of(sts) : new TlsReportPolicy(TlsReportPolicy.NoPolicyFound, Domain, [], []);
        var session = new TlsSessionReport(this, policy, candidate.Name.TrimEnd('.').ToLowerInvariant(), candidate.Address);
        // Records published, none usable (RFC 7672 §2.2: TLS still required): the DANE policy failed whatever TLS gives.
        if (tlsa is { Count: 0 }) session.Note(TlsResultType.TlsaInvalid, "none of the TLSA records is usable");
        return session;
    }

    /// <summary>
    /// A failure before any session: the policy itself could not be had (a
    /// DNSSEC-bogus TLSA answer for <paramref name="mxHost"/>, an MTA-STS policy
    /// that could not be fetched or is not valid), so no connection was made under it.
    /// </summary>
    public void PolicyFailure(string type, string resultType, string mxHost, string reason) =>
        Record(new TlsReportPolicy(type, Domain, [], mxHost.Length > 0 ? [mxHost] : []), resultType, mxHost, null, null, reason, DateTimeOffset.UtcNow);

    /// <summary>Appends one session's line; <paramref name="now"/> picks the day's file.</summary>
    public void Record(TlsReportPolicy policy, string resultType, string mxHost, IPAddress? receivingIp, IPAddress? sendingIp, string? reason,
        DateTimeOffset now)
    {
        var line = Line(policy, resultType, mxHost, receivingIp, sendingIp, reason, now);
        var path = Path.Combine(_directory, now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0x1A0); // 0640: jsmail-tlsrpt may run as another member of the group
        if (fd < 0)
        {
            _log($"TLS reporting: cannot open {path}: {ErrorText.Describe(Libc.Errno)}");
            return;
        }
        var written = Libc.WriteOnce(fd, line);
        if (written != line.Length) _log($"TLS reporting: cannot write {path}: {(written < 0 ? ErrorText.Describe(Libc.Errno) : "short write")}");
        Libc.Close(fd);
    }

    /// <summary>One session as a line of JSON, with RFC 8460's member names where it has them.</summary>
    public static byte[] Line(TlsReportPolicy policy, string resultType, string mxHost, IPAddress? receivingIp, IPAddress? sendingIp, string? reason,
        DateTimeOffset now)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("time", now.ToUnixTimeSeconds());
            json.WriteString("policy-type", policy.Type);
            json.WriteString("policy-domain", policy.Domain);
            json.WriteStartArray("policy-string");
            foreach (var s in policy.Strings) json.WriteStringValue(s);
            json.WriteEndArray();
            json.WriteStartArray("mx-host");
            foreach (var m in policy.MxHost) json.WriteStringValue(m);
            json.WriteEndArray();
            json.WriteString("result-type", resultType);
            if (mxHost.Length > 0) json.WriteString("receiving-mx-hostname", mxHost);
            if (receivingIp != null) json.WriteString("receiving-ip", receivingIp.ToString());
            if (sendingIp != null) json.WriteString("sending-mta-ip", sendingIp.ToString());
            if (reason != null) json.WriteString("failure-reason-code", reason);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}

/// <summary>
/// One connection's TLS result, told by the dialogue as it happens: a failure
/// noted while the handshake goes on (a certificate MTA-STS testing would
/// refuse) decides the result when the handshake then succeeds. Recorded once:
/// a pooled session reused for later transactions is one session.
/// </summary>
public sealed class TlsSessionReport(TlsSessionLog log, TlsReportPolicy policy, string mxHost, IPAddress receivingIp)
{
    private string? _noted, _reason;
    private bool _recorded;

    public TlsReportPolicy Policy => policy;

    /// <summary>A failure seen during the handshake, which does not stop it.</summary>
    public void Note(string resultType, string reason)
    {
        if (_noted != null) return;
        _noted = resultType;
        _reason = reason;
    }

    /// <summary>TLS was established: a success unless something was noted.</summary>
    public void Established(IPAddress? local) => Record(_noted ?? TlsResultType.Success, _noted == null ? null : _reason, local);

    /// <summary>The handshake failed: what was noted, else a validation failure in its own words.</summary>
    public void HandshakeFailed(string reason, IPAddress? local) => Record(_noted ?? TlsResultType.ValidationFailure, _noted == null ? reason : _reason, local);

    /// <summary>The session failed before any handshake (no STARTTLS).</summary>
    public void Failed(string resultType, string reason, IPAddress? local) => Record(resultType, reason, local);

    private void Record(string resultType, string? reason, IPAddress? local)
    {
        if (_recorded) return;
        _recorded = true;
        log.Record(policy, resultType, mxHost, receivingIp, local, reason, DateTimeOffset.UtcNow);
    }
}
