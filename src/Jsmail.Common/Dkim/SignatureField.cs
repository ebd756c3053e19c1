using System.Text;

namespace Jsmail.Common.Dkim;

/// <summary>
/// The DKIM-Signature field (RFC 6376 §3.5): v=1, a=rsa-sha256,
/// c=relaxed/relaxed, d, s, t, h, bh, then b folded in lines of 72. The
/// signature itself comes from <c>sign</c>, over the canonical signed fields
/// followed by this field with an empty b= and no final CRLF (§3.7).
/// </summary>
internal static class SignatureField
{
    private const int FoldAt = 76, SignatureChunk = 72;

    /// <summary>The line end the message uses (that of its first line), for the field we add.</summary>
    public static byte[] LineEndOf(ReadOnlySpan<byte> text)
    {
        var n = text.IndexOfAny((byte)'\n', (byte)'\r');
        return n >= 0 && text[n] == (byte)'\r' && n + 1 < text.Length && text[n + 1] == (byte)'\n' ? "\r\n"u8.ToArray() : "\n"u8.ToArray();
    }

    public static byte[] Build(SigningKey key, long unixTime, IReadOnlyList<string> h, byte[] bodyHash,
        byte[] canonicalSignedFields, Func<byte[], byte[]> sign, byte[] lineEnd)
    {
        byte[] first = [.. "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="u8, .. key.Domain, .. "; s="u8, .. key.Selector, .. ";"u8];
        var lines = new List<byte[]> { first };
        lines.AddRange(FoldedList($"\tt={unixTime}; h=", h, ";"));
        lines.Add(Encoding.ASCII.GetBytes("\tbh=" + Convert.ToBase64String(bodyHash) + ";"));
        lines.Add("\tb="u8.ToArray());

        var ownField = RelaxedHeader.Canonicalize(lines);
        var signed = Concat(canonicalSignedFields, ownField.AsSpan(0, ownField.Length - 2));
        var b = Convert.ToBase64String(sign(signed));

        var field = new List<byte>();
        for (var i = 0; i < lines.Count - 1; i++) { field.AddRange(lines[i]); field.AddRange(lineEnd); }
        field.AddRange("\tb="u8.ToArray());
        for (var i = 0; i < b.Length; i += SignatureChunk)
        {
            if (i > 0) { field.AddRange(lineEnd); field.Add((byte)'\t'); }
            field.AddRange(Encoding.ASCII.GetBytes(b.Substring(i, Math.Min(SignatureChunk, b.Length - i))));
        }
        field.AddRange(lineEnd);
        return field.ToArray();
    }

    /// <summary>"head" and the names joined by ':', folded after a ':' where a line would pass 76 characters.</summary>
    internal static List<byte[]> FoldedList(string head, IReadOnlyList<string> names, string tail)
    {
        var lines = new List<byte[]>();
        var line = new StringBuilder(head);
        for (var i = 0; i < names.Count; i++)
        {
            var piece = names[i] + (i < names.Count - 1 ? ":" : tail);
            if (line.Length + piece.Length > FoldAt && line.Length > head.Length)
            {
                lines.Add(Encoding.ASCII.GetBytes(line.ToString()));
                line.Clear().Append('\t');
            }
            line.Append(piece);
        }
        if (names.Count == 0) line.Append(tail);
        lines.Add(Encoding.ASCII.GetBytes(line.ToString()));
        return lines;
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var o = new byte[a.Length + b.Length];
        a.CopyTo(o);
        b.CopyTo(o.AsSpan(a.Length));
        return o;
    }
}
