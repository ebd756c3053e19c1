using Jsmail.Common.Message;
using Jsmail.Common.Control;

namespace Jsmail.Common.Dkim;

/// <summary>
/// The domain of an address in a From field or an envelope sender: the key
/// is chosen by it. Quoted strings and comments are skipped, so a display
/// name holding '@' or '&lt;' does not mislead; an angle address wins over a
/// bare one; with several addresses the first counts.
/// </summary>
internal static class AuthorDomain
{
    /// <summary>The domain in lower case without a trailing dot, or null when there is none.</summary>
    public static byte[]? OfFromField(HeaderField from)
    {
        return OfAddressList(from.Value());
    }

    public static byte[]? OfAddressList(ReadOnlySpan<byte> text)
    {
        var plain = new List<byte>(text.Length);
        var depth = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (quoted)
            {
                if (b == (byte)'\\') i++;
                else if (b == (byte)'"') quoted = false;
                continue;
            }
            if (depth > 0)
            {
                if (b == (byte)'\\') i++;
                else if (b == (byte)'(') depth++;
                else if (b == (byte)')') depth--;
                continue;
            }
            switch (b)
            {
                case (byte)'"': quoted = true; break;
                case (byte)'(': depth = 1; break;
                case (byte)'<':
                    var close = text[(i + 1)..].IndexOf((byte)'>');
                    return DomainOf(close < 0 ? text[(i + 1)..] : text.Slice(i + 1, close));
                case (byte)',' or (byte)';': return DomainOf(plain.ToArray());
                default: plain.Add(b); break;
            }
        }
        return DomainOf(plain.ToArray());
    }

    /// <summary>The domain of one address (route and surrounding space ignored).</summary>
    public static byte[]? DomainOf(ReadOnlySpan<byte> address)
    {
        var at = address.LastIndexOf((byte)'@');
        if (at < 0) return null;
        var domain = address[(at + 1)..].Trim(" \t\r\n"u8).TrimEnd((byte)'.');
        if (domain.IsEmpty || domain.IndexOfAny(" \t<>()\",;:@"u8) >= 0) return null;
        return AsciiCase.ToLower(domain);
    }
}
