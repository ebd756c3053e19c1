namespace Jsmail.Common.Control;

/// <summary>
/// qmail's case folding: only A-Z become a-z, every other byte (UTF-8 and
/// Latin-1 letters included) stays as it is. Host names, local parts, header
/// field names and protocol words are compared and keyed this way.
/// char.ToLowerInvariant and string.ToLowerInvariant are not: they fold Latin-1
/// letters too, and they are over chars, not bytes.
/// </summary>
public static class AsciiCase
{
    public static byte Lower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    public static void LowerInPlace(Span<byte> s)
    {
        for (var i = 0; i < s.Length; i++) s[i] = Lower(s[i]);
    }

    /// <summary>A lower-cased copy.</summary>
    public static byte[] ToLower(ReadOnlySpan<byte> s)
    {
        var o = s.ToArray();
        LowerInPlace(o);
        return o;
    }

    /// <summary>Equal once A-Z are folded onto a-z.</summary>
    public static bool EqualsIgnoringCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return false;
        for (var i = 0; i < a.Length; i++)
            if (Lower(a[i]) != Lower(b[i])) return false;
        return true;
    }
}
