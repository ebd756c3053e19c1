using System.Globalization;

namespace Jsmail.Common.Remote;

/// <summary>What a domain's MTA-STS policy asks of its senders (RFC 8461 §5).</summary>
public enum MtaStsMode
{
    /// <summary>No policy: delivery as if the domain published none.</summary>
    None,
    /// <summary>Deliver as usual; what enforce would refuse is only logged.</summary>
    Testing,
    /// <summary>Only MX hosts the policy names, only over STARTTLS with a certificate that verifies for the MX name.</summary>
    Enforce,
}

/// <summary>
/// An MTA-STS policy file (RFC 8461 §3.2), parsed strictly: <c>key: value</c>
/// lines separated by LF or CRLF; <c>version: STSv1</c>, <c>mode</c>
/// (enforce, testing, none) and <c>max_age</c> (up to 10 digits) are required,
/// and at least one <c>mx</c> unless the mode is none. Unknown keys are
/// ignored (the RFC lets policies grow); a required field given twice, a bad
/// value or a malformed line makes the whole file unusable (null), which the
/// RFC treats as a failed fetch.
/// </summary>
public sealed record MtaStsPolicy(MtaStsMode Mode, IReadOnlyList<string> Mx, long MaxAge)
{
    /// <summary>RFC 8461 §3.2: max_age is at most 31557600 seconds (a year); a larger value is held to that.</summary>
    public const long MaxMaxAge = 31557600;

    public static MtaStsPolicy? Parse(string text, out string why)
    {
        why = "";
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.EndsWith('\r') ? raw[..^1] : raw;
            if (line.Trim(' ', '\t').Length == 0) continue;
            var colon = line.IndexOf(':');
            if (colon <= 0) { why = "a line is not \"key: value\""; return null; }
            var key = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) { why = "a key has characters a key cannot have"; return null; }
            switch (key)
            {
                case "version": if (!Once(ref version, value)) { why = "version is given twice"; return null; } break;
                case "mode": if (!Once(ref mode, value)) { why = "mode is given twice"; return null; } break;
                case "max_age": if (!Once(ref maxAge, value)) { why = "max_age is given twice"; return null; } break;
                case "mx": mx.Add(value); break;
                default: break; // an extension of the format we do not know
            }
        }
        if (version != "STSv1") { why = version == null ? "no version" : "version is not STSv1"; return null; }
        var parsedMode = mode switch
        {
            "enforce" => MtaStsMode.Enforce,
            "testing" => MtaStsMode.Testing,
            "none" => MtaStsMode.None,
            _ => (MtaStsMode?)null,
        };
        if (parsedMode == null) { why = mode == null ? "no mode" : "mode is not enforce, testing or none"; return null; }
        if (maxAge is not { Length: > 0 and <= 10 } || !maxAge.All(char.IsAsciiDigit)) { why = "max_age is not a number of at most 10 digits"; return null; }
        if (mx.Any(p => !IsPattern(p))) { why = "an mx pattern is not a host name"; return null; }
        if (mx.Count == 0 && parsedMode != MtaStsMode.None) { why = "no mx pattern"; return null; }
        var seconds = Math.Min(long.Parse(maxAge, CultureInfo.InvariantCulture), MaxMaxAge);
        return new MtaStsPolicy(parsedMode.Value, mx.Select(p => p.ToLowerInvariant()).ToList(), seconds);
    }

    private static bool Once(ref string? field, string value)
    {
        if (field != null) return false;
        field = value;
        return true;
    }

    /// <summary>A host name, or "*." and a host name (the wildcard stands for exactly one label).</summary>
    private static bool IsPattern(string pattern)
    {
        var name = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        if (name.Length is 0 or > 253) return false;
        return name.Split('.').All(label => label.Length is > 0 and <= 63 &&
            label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && label[0] != '-' && label[^1] != '-');
    }

    /// <summary>
    /// RFC 8461 §4.1: the MX host name (without its final dot, in any case)
    /// equals a pattern, or a pattern "*.rest" and the name is one label
    /// followed by ".rest" ("*.example.com" matches mx1.example.com, not
    /// example.com, not a.b.example.com).
    /// </summary>
    public bool Matches(string mxHost)
    {
        var host = mxHost.TrimEnd('.').ToLowerInvariant();
        foreach (var pattern in Mx)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                var dot = host.IndexOf('.');
                if (dot > 0 && host[(dot + 1)..] == pattern[2..]) return true;
            }
            else if (host == pattern) return true;
        }
        return false;
    }

    /// <summary>
    /// The policy's id from the <c>_mta-sts</c> TXT records (RFC 8461 §3.1):
    /// records that do not start with "v=STSv1;" are not MTA-STS records;
    /// exactly one must remain, with an id of 1 to 32 letters and digits.
    /// Anything else: null, the domain publishes no (usable) policy.
    /// </summary>
    public static string? RecordId(IEnumerable<string> txtRecords)
    {
        var records = txtRecords.Where(t => t.StartsWith("v=STSv1;", StringComparison.Ordinal)).ToList();
        if (records.Count != 1) return null;
        string? id = null;
        foreach (var field in records[0].Split(';').Skip(1))
        {
            var f = field.Trim(' ', '\t');
            if (f.Length == 0) continue;
            var eq = f.IndexOf('=');
            if (eq <= 0) return null;
            if (f[..eq] != "id") continue; // other fields are extensions
            if (id != null) return null;
            id = f[(eq + 1)..];
        }
        return id is { Length: > 0 and <= 32 } && id.All(char.IsAsciiLetterOrDigit) ? id : null;
    }
}
