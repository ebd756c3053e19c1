using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>The extensions and standards beyond qmail, each one switchable.</summary>
[Flags]
public enum Standards
{
    None = 0,
    EnhancedStatusCodes = 1, Pipelining = 2, Size = 4, EightBitMime = 8, SmtpUtf8 = 16, Dsn = 32,
    /// <summary>RFC 5321 syntax: FROM:/TO: keywords, one MAIL per transaction, parameters parsed.</summary>
    StrictSyntax = 64,
    /// <summary>A CR not followed by LF in DATA is refused (RFC 5321 §2.3.8), not kept as qmail keeps it.</summary>
    RefuseBareCr = 128,
    /// <summary>RFC 3207, offered when control/servercert.pem exists.</summary>
    StartTls = 256,
    /// <summary>RFC 4954, offered when a checkpassword program is named on the command line.</summary>
    Auth = 512,
    /// <summary>RFC 3030 BDAT.</summary>
    Chunking = 1024,
    /// <summary>RFC 3030 BODY=BINARYMIME, offered only with <see cref="Chunking"/>.</summary>
    BinaryMime = 2048,
    /// <summary>RFC 9422: the session's limits (RCPTMAX, MAILMAX) in the EHLO reply.</summary>
    Limits = 4096,
    /// <summary>
    /// RFC 8689: REQUIRETLS offered after STARTTLS, and its MAIL parameter kept
    /// in the envelope extension. Needs <see cref="StrictSyntax"/>: without it no
    /// parameter is read, and a client's demand would be lost without a word.
    /// </summary>
    RequireTls = 8192,
    All = 16383,
}

/// <summary>
/// Everything jsmail-smtpd reads from control/ at start (interfaces §8.2), plus
/// its own files: smtpdisable (extensions switched off), maxrcpt, and the checks.
/// </summary>
public sealed class SmtpdSettings
{
    public required byte[] Greeting { get; init; }
    public byte[]? LocalIpHost { get; init; }
    public int TimeoutSeconds { get; init; } = 1200;
    /// <summary>null: control/rcpthosts is missing, and jsmail-smtpd relays for nobody (BCP 30).</summary>
    public ControlSet? RcptHosts { get; init; }
    public CdbReader? MoreRcptHosts { get; init; }
    public ControlSet BadMailFrom { get; init; } = new([]);
    public ulong DataBytes { get; init; }
    /// <summary>control/databytes (0 when absent): what a client gets whose rule sets no DATABYTES.</summary>
    public ulong ControlDataBytes { get; init; }
    public int MaxRecipients { get; init; } = 100;
    /// <summary>control/maxmail: transactions (MAIL commands accepted) per session, 0 = no limit; none under JSMAIL_COMPAT=qmail.</summary>
    public int MaxMessages { get; init; }
    public Standards Standards { get; init; } = Standards.All;
    public SmtpChecks Checks { get; init; } = SmtpChecks.None;
    /// <summary>control/servercert.pem when it exists and STARTTLS is on; null otherwise.</summary>
    public string? TlsCertificate { get; init; }
    /// <summary>control/smtpauthtls (default 1): AUTH only after STARTTLS. 0 offers it on plain connections too.</summary>
    public bool AuthRequiresTls { get; init; } = true;
    /// <summary>control/policy: the Postfix policy services (docs/policy.md); none under JSMAIL_COMPAT=qmail.</summary>
    public IReadOnlyList<PolicyClient> PolicyClients { get; init; } = [];

    /// <summary>control/milters, in order; none under JSMAIL_COMPAT=qmail.</summary>
    public IReadOnlyList<Milter.MilterSpec> Milters { get; init; } = [];
    /// <summary>Where a message a milter quarantines or a policy service holds goes instead of its recipients (<see cref="MessageQuarantine"/>).</summary>
    public byte[] Quarantine { get; init; } = "postmaster"u8.ToArray();

    /// <summary>JSMAIL_COMPAT=qmail: qmail-smtpd's dialogue, nothing more.</summary>
    public bool Compat { get; init; }

    public bool Has(Standards s) => (Standards & s) == s;

    /// <summary>
    /// DATABYTES (from tcprules) read as qmail's scan_ulong reads it: the
    /// leading digits, none giving 0, too many giving the largest value.
    /// </summary>
    public static ulong ScanDataBytes(ReadOnlySpan<byte> value)
    {
        ulong n = 0;
        foreach (var c in value)
        {
            if (c is < (byte)'0' or > (byte)'9') break;
            n = n > (ulong.MaxValue - 9) / 10 ? ulong.MaxValue : n * 10 + (ulong)(c - '0');
        }
        return n;
    }

    public const string DisableFile = "smtpdisable";
    public const string AuthTlsFile = "smtpauthtls";
    public const string MaxMailFile = "maxmail";
    /// <summary>Certificate, key and chain in one PEM file, as the qmail TLS patch keeps them.</summary>
    public const string CertificateFile = "servercert.pem";

    /// <summary>Reads the controls; throws ControlReadException / ControlMissingException as qmail dies with 421.</summary>
    public static SmtpdSettings Read(ControlReader controls, string home, bool compat, ulong? dataBytesFromEnv)
    {
        var greeting = controls.ReadLine("smtpgreeting", fallbackToMe: true, literalDefault: null);
        byte[]? liphost;
        try { liphost = controls.ReadLine("localiphost", fallbackToMe: true, literalDefault: null); }
        catch (ControlMissingException) { liphost = null; }
        var timeout = (int)Math.Min(controls.ReadInt("timeoutsmtpd", 1200), int.MaxValue / 1000);
        var rcpthosts = controls.ReadListIfPresent("rcpthosts");
        CdbReader? more = null;
        if (rcpthosts != null)
        {
            var path = Path.Combine(home, "control", "morercpthosts.cdb");
            try { if (CdbReader.TryOpen(path, out var r)) more = r; }
            catch (IOException e) { throw new ControlReadException("morercpthosts.cdb", e.HResult & 0xffff); }
        }
        // qmail itself offers PIPELINING and 8BITMIME; its compat mode keeps them.
        var standards = Standards.Pipelining | Standards.EightBitMime;
        if (!compat)
        {
            standards = Standards.All;
            foreach (var word in controls.ReadList(DisableFile))
                standards &= ~ByName(System.Text.Encoding.ASCII.GetString(word).Trim());
        }
        var cert = Path.Combine(home, "control", CertificateFile);
        List<Milter.MilterSpec> milters = compat ? [] : Milter.MilterSpec.Read(controls, home);
        IReadOnlyList<PolicyClient> policy = compat ? [] : PolicyServices.Read(controls, home);
        var controlDataBytes = controls.ReadInt("databytes", 0);
        return new SmtpdSettings
        {
            Greeting = greeting,
            LocalIpHost = liphost,
            TimeoutSeconds = timeout <= 0 ? 1 : timeout,
            RcptHosts = rcpthosts == null ? null : new ControlSet(rcpthosts),
            MoreRcptHosts = more,
            BadMailFrom = new ControlSet(controls.ReadList("badmailfrom")),
            DataBytes = dataBytesFromEnv ?? controlDataBytes,
            ControlDataBytes = controlDataBytes,
            MaxRecipients = (int)Math.Min(controls.ReadInt("maxrcpt", 100), int.MaxValue),
            MaxMessages = compat ? 0 : (int)Math.Min(controls.ReadInt(MaxMailFile, 0), int.MaxValue),
            Standards = standards,
            Compat = compat,
            Checks = SmtpChecks.Read(controls, home),
            // Only whether the file is there: it is read when a client asks for STARTTLS.
            TlsCertificate = (standards & Standards.StartTls) != 0 && File.Exists(cert) ? cert : null,
            AuthRequiresTls = compat || controls.ReadInt(AuthTlsFile, 1) != 0,
            PolicyClients = policy,
            Milters = milters,
            // where a milter's quarantine and a policy service's HOLD send a message
            Quarantine = milters.Count > 0 || policy.Count > 0 ? MessageQuarantine.Address(controls) : [],
        };
    }

    /// <summary>The names administrators write in control/smtpdisable, one a line.</summary>
    public static Standards ByName(string name) => name.ToUpperInvariant() switch
    {
        "ENHANCEDSTATUSCODES" => Standards.EnhancedStatusCodes,
        "PIPELINING" => Standards.Pipelining,
        "SIZE" => Standards.Size,
        "8BITMIME" => Standards.EightBitMime,
        "SMTPUTF8" => Standards.SmtpUtf8,
        "DSN" => Standards.Dsn,
        "STRICTSYNTAX" => Standards.StrictSyntax,
        "BARECR" => Standards.RefuseBareCr,
        "STARTTLS" => Standards.StartTls,
        "AUTH" => Standards.Auth,
        "CHUNKING" => Standards.Chunking,
        "BINARYMIME" => Standards.BinaryMime,
        "LIMITS" => Standards.Limits,
        "REQUIRETLS" => Standards.RequireTls,
        _ => Standards.None,
    };

    public EsmtpFeatures Features =>
        (Has(Standards.Size) ? EsmtpFeatures.Size : 0) |
        (Has(Standards.EightBitMime) ? EsmtpFeatures.EightBitMime : 0) |
        (Has(Standards.SmtpUtf8) ? EsmtpFeatures.SmtpUtf8 : 0) |
        (Has(Standards.Dsn) ? EsmtpFeatures.Dsn : 0) |
        (BinaryMimeOffered ? EsmtpFeatures.BinaryMime : 0) |
        (Has(Standards.RequireTls) ? EsmtpFeatures.RequireTls : 0);

    /// <summary>BODY=BINARYMIME can only come by BDAT, and BODY= is 8BITMIME's: without either it is not offered.</summary>
    public bool BinaryMimeOffered => Has(Standards.Chunking | Standards.BinaryMime | Standards.EightBitMime);
}
