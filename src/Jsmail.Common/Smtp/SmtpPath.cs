namespace Jsmail.Common.Smtp;

/// <summary>The outcome of reading the path of MAIL or RCPT.</summary>
/// <param name="Address">the address with quotes, escapes and source route removed</param>
/// <param name="ParametersStart">offset in the argument where ESMTP parameters may start</param>
/// <param name="Terminated">the closing '&gt;' (or, without '&lt;', a space or the end) was seen</param>
/// <param name="Bracketed">the path was written in angle brackets</param>
public readonly record struct SmtpPathResult(byte[] Address, int ParametersStart, bool Terminated, bool Bracketed);

/// <summary>
/// qmail-smtpd's reading of the MAIL and RCPT argument (interfaces §8.5):
/// after the first '&lt;' up to an unquoted '&gt;', or, without '&lt;', after
/// the first ':' and its spaces up to an unquoted space; a leading source
/// route is dropped up to its ':'; backslash escapes the next byte; double
/// quotes toggle quoting and are removed. It is lenient on purpose, as qmail is.
/// </summary>
public static class SmtpPath
{
    /// <summary>qmail refuses longer addresses with 555.</summary>
    public const int MaxAddress = 899;

    public static SmtpPathResult Parse(ReadOnlySpan<byte> argument)
    {
        var pos = argument.IndexOf((byte)'<');
        var terminator = (byte)'>';
        var bracketed = pos >= 0;
        if (bracketed) pos++;
        else
        {
            terminator = (byte)' ';
            pos = argument.IndexOf((byte)':');
            pos = pos < 0 ? argument.Length : pos + 1;
            while (pos < argument.Length && argument[pos] == (byte)' ') pos++;
        }
        if (pos < argument.Length && argument[pos] == (byte)'@')
        {
            var colon = argument[pos..].IndexOf((byte)':');
            pos = colon < 0 ? argument.Length : pos + colon + 1;
        }

        var address = new List<byte>(Math.Min(argument.Length, 256));
        bool escaped = false, quoted = false, terminated = false;
        for (; pos < argument.Length; pos++)
        {
            var b = argument[pos];
            if (escaped) { address.Add(b); escaped = false; continue; }
            if (!quoted && b == terminator) { terminated = true; pos++; break; }
            if (b == (byte)'\\') escaped = true;
            else if (b == (byte)'"') quoted = !quoted;
            else address.Add(b);
        }
        if (!bracketed && pos >= argument.Length) terminated = true;
        return new SmtpPathResult(address.ToArray(), Math.Min(pos, argument.Length), terminated, bracketed);
    }

    /// <summary>
    /// The IPv4 address of a trailing <c>@[d.d.d.d]</c> literal, which qmail
    /// replaces by localiphost when it names this host; null otherwise.
    /// </summary>
    public static uint? TrailingIpLiteral(ReadOnlySpan<byte> address, out int atIndex)
    {
        atIndex = address.LastIndexOf((byte)'@');
        if (atIndex < 0 || atIndex + 1 >= address.Length || address[atIndex + 1] != (byte)'[') return null;
        var rest = address[(atIndex + 2)..];
        uint ip = 0;
        for (var part = 0; part < 4; part++)
        {
            var digits = 0;
            uint value = 0;
            while (digits < rest.Length && rest[digits] is >= (byte)'0' and <= (byte)'9' && digits < 3)
                value = value * 10 + (uint)(rest[digits++] - '0');
            if (digits == 0 || value > 255) return null;
            rest = rest[digits..];
            ip = (ip << 8) | value;
            var sep = part < 3 ? (byte)'.' : (byte)']';
            if (rest.Length == 0 || rest[0] != sep) return null;
            rest = rest[1..];
        }
        return rest.Length == 0 ? ip : null;
    }

    /// <summary>The domain: the bytes after the last '@'; empty when there is no '@'.</summary>
    public static ReadOnlySpan<byte> Domain(ReadOnlySpan<byte> address)
    {
        var at = address.LastIndexOf((byte)'@');
        return at < 0 ? default : address[(at + 1)..];
    }
}
