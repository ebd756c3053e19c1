using Jsmail.Common.Envelope;

namespace Jsmail.Common.Smtp;

/// <summary>Why a MAIL or RCPT parameter list was refused.</summary>
public enum EsmtpParameterFault { None, Syntax, Unknown, Duplicate, BadValue, TooBig }

/// <summary>The extensions whose parameters a server accepts on this transaction.</summary>
[Flags]
public enum EsmtpFeatures
{
    None = 0, Size = 1, EightBitMime = 2, SmtpUtf8 = 4, Dsn = 8,
    /// <summary>RFC 3030: BODY=BINARYMIME.</summary>
    BinaryMime = 16,
    /// <summary>RFC 8689: REQUIRETLS (no value). Whether the session is under TLS is the caller's to check.</summary>
    RequireTls = 32,
}

/// <summary>MAIL FROM parameters, validated.</summary>
public sealed record MailParameters(List<EsmtpParameter> List, ulong? Size, bool EightBit, bool Utf8)
{
    /// <summary>BODY=BINARYMIME (RFC 3030): the message may only come by BDAT, and is kept byte for byte.</summary>
    public bool Binary { get; init; }

    /// <summary>RFC 8689 REQUIRETLS: the message may only be relayed over verified TLS to peers that offer REQUIRETLS.</summary>
    public bool RequireTls { get; init; }
}

/// <summary>
/// ESMTP parameters after the path of MAIL and RCPT (RFC 5321 §4.1.2
/// esmtp-param): SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531),
/// REQUIRETLS (RFC 8689), RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT (RFC 3461). Values are checked
/// here so that only well-formed ones reach the envelope extension.
/// </summary>
public static class EsmtpParameters
{
    /// <param name="registered">keywords a native plugin registered: kept for it to check, not refused as unknown</param>
    public static EsmtpParameterFault ParseMail(ReadOnlySpan<byte> text, EsmtpFeatures features, out MailParameters? result,
        Func<string, bool>? registered = null)
    {
        result = null;
        var fault = Split(text, out var list);
        if (fault != EsmtpParameterFault.None) return fault;
        ulong? size = null;
        bool eightBit = false, utf8 = false, binary = false, requireTls = false;
        foreach (var p in list)
        {
            var v = p.Value;
            switch (p.Keyword.ToUpperInvariant())
            {
                case "SIZE" when features.HasFlag(EsmtpFeatures.Size):
                    if (v == null || v.Length is 0 or > 20 || !AllDigits(v)) return EsmtpParameterFault.BadValue;
                    size = ulong.TryParse(v.AsSpan(), out var s) ? s : ulong.MaxValue;
                    break;
                case "BODY" when features.HasFlag(EsmtpFeatures.EightBitMime):
                    if (v == null) return EsmtpParameterFault.BadValue;
                    if (Is(v, "8BITMIME")) eightBit = true;
                    else if (Is(v, "BINARYMIME") && features.HasFlag(EsmtpFeatures.BinaryMime)) binary = true;
                    else if (!Is(v, "7BIT")) return EsmtpParameterFault.BadValue;
                    break;
                case "SMTPUTF8" when features.HasFlag(EsmtpFeatures.SmtpUtf8):
                    if (v != null) return EsmtpParameterFault.BadValue;
                    utf8 = true;
                    break;
                case "REQUIRETLS" when features.HasFlag(EsmtpFeatures.RequireTls):
                    if (v != null) return EsmtpParameterFault.BadValue;
                    requireTls = true;
                    break;
                case "RET" when features.HasFlag(EsmtpFeatures.Dsn):
                    if (v == null || !(Is(v, "FULL") || Is(v, "HDRS"))) return EsmtpParameterFault.BadValue;
                    break;
                case "ENVID" when features.HasFlag(EsmtpFeatures.Dsn):
                    if (v == null || v.Length is 0 or > 100 || !IsXtext(v)) return EsmtpParameterFault.BadValue;
                    break;
                default:
                    if (registered?.Invoke(p.Keyword) == true) break;
                    return EsmtpParameterFault.Unknown;
            }
        }
        result = new MailParameters(list, size, eightBit, utf8) { Binary = binary, RequireTls = requireTls };
        return EsmtpParameterFault.None;
    }

    public static EsmtpParameterFault ParseRcpt(ReadOnlySpan<byte> text, EsmtpFeatures features, bool utf8, out List<EsmtpParameter> list,
        Func<string, bool>? registered = null)
    {
        var fault = Split(text, out list);
        if (fault != EsmtpParameterFault.None) return fault;
        foreach (var p in list)
        {
            var v = p.Value;
            switch (p.Keyword.ToUpperInvariant())
            {
                case "NOTIFY" when features.HasFlag(EsmtpFeatures.Dsn):
                    if (v == null || !IsNotify(v)) return EsmtpParameterFault.BadValue;
                    break;
                case "ORCPT" when features.HasFlag(EsmtpFeatures.Dsn):
                    if (v == null || v.Length > 500 || !IsOrcpt(v, utf8)) return EsmtpParameterFault.BadValue;
                    break;
                default:
                    if (registered?.Invoke(p.Keyword) == true) break;
                    return EsmtpParameterFault.Unknown;
            }
        }
        return EsmtpParameterFault.None;
    }

    /// <summary>Space-separated <c>keyword[=value]</c>; keywords per RFC 5321, values without controls or '='.</summary>
    public static EsmtpParameterFault Split(ReadOnlySpan<byte> text, out List<EsmtpParameter> list)
    {
        list = new List<EsmtpParameter>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            while (text.Length > 0 && text[0] == (byte)' ') text = text[1..];
            if (text.Length == 0) return EsmtpParameterFault.None;
            var end = text.IndexOf((byte)' ');
            var item = end < 0 ? text : text[..end];
            text = end < 0 ? default : text[end..];
            var eq = item.IndexOf((byte)'=');
            var key = eq < 0 ? item : item[..eq];
            if (key.Length is 0 or > EnvelopeExtensionCodec.MaxKeyword || !char.IsAsciiLetterOrDigit((char)key[0]))
                return EsmtpParameterFault.Syntax;
            foreach (var b in key)
                if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-') return EsmtpParameterFault.Syntax;
            var keyword = System.Text.Encoding.ASCII.GetString(key);
            byte[]? value = null;
            if (eq >= 0)
            {
                var v = item[(eq + 1)..];
                if (EnvelopeExtensionCodec.Check(keyword, v, hasValue: true) != null || v.Contains((byte)'='))
                    return EsmtpParameterFault.Syntax;
                value = v.ToArray();
            }
            if (!seen.Add(keyword)) return EsmtpParameterFault.Duplicate;
            list.Add(new EsmtpParameter(keyword, value));
        }
    }

    /// <summary>RFC 3461 xtext: printable ASCII except '+' and '=', or '+' and two upper-case hex digits.</summary>
    public static bool IsXtext(ReadOnlySpan<byte> v)
    {
        for (var i = 0; i < v.Length; i++)
        {
            var b = v[i];
            if (b == (byte)'+')
            {
                if (i + 2 >= v.Length || !IsUpperHex(v[i + 1]) || !IsUpperHex(v[i + 2])) return false;
                i += 2;
            }
            else if (b is < 33 or > 126 || b == (byte)'=') return false;
        }
        return true;
    }

    private static bool IsNotify(ReadOnlySpan<byte> v)
    {
        if (Is(v, "NEVER")) return true;
        var seen = 0;
        foreach (var range in v.Split((byte)','))
        {
            var word = v[range];
            var bit = Is(word, "SUCCESS") ? 1 : Is(word, "FAILURE") ? 2 : Is(word, "DELAY") ? 4 : 0;
            if (bit == 0 || (seen & bit) != 0) return false;
            seen |= bit;
        }
        return seen != 0;
    }

    /// <summary>ORCPT=addr-type;xtext (RFC 3461 §4.2); utf-8 type values per RFC 6533 when SMTPUTF8.</summary>
    private static bool IsOrcpt(ReadOnlySpan<byte> v, bool utf8)
    {
        var semi = v.IndexOf((byte)';');
        if (semi <= 0 || semi == v.Length - 1) return false;
        foreach (var b in v[..semi])
            if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-') return false;
        var address = v[(semi + 1)..];
        if (Is(v[..semi], "utf-8") && utf8) return System.Text.Unicode.Utf8.IsValid(address);
        return IsXtext(address);
    }

    private static bool IsUpperHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F';

    private static bool AllDigits(ReadOnlySpan<byte> v)
    {
        foreach (var b in v) if (b is < (byte)'0' or > (byte)'9') return false;
        return true;
    }

    private static bool Is(ReadOnlySpan<byte> v, string word)
    {
        if (v.Length != word.Length) return false;
        for (var i = 0; i < v.Length; i++)
            if (char.ToUpperInvariant((char)v[i]) != char.ToUpperInvariant(word[i])) return false;
        return true;
    }
}
