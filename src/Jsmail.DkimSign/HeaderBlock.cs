namespace Jsmail.DkimSign;

/// <summary>One header field: its lines as on the wire, without their line ends (continuation lines included).</summary>
internal sealed record HeaderField(byte[] Name, List<byte[]> Lines);

/// <summary>
/// The header of a message: where it ends, and its fields. Lines end as
/// jsmail-remote ends them on the wire: LF, CRLF or a lone CR.
/// </summary>
internal static class HeaderBlock
{
    /// <summary>
    /// The offset where the body starts (just after the empty line ending the
    /// header), or -1 when <paramref name="text"/> does not yet show it. At
    /// end of input a header without an empty line ends at the end.
    /// </summary>
    public static int FindBodyStart(ReadOnlySpan<byte> text, bool atEnd)
    {
        var lineStart = 0;
        return FindBodyStart(text, atEnd, ref lineStart);
    }

    /// <summary>
    /// The same, scanning from <paramref name="lineStart"/> (a line start an
    /// earlier call left there), so a header read in pieces is scanned once.
    /// </summary>
    public static int FindBodyStart(ReadOnlySpan<byte> text, bool atEnd, ref int lineStart)
    {
        var i = lineStart;
        while (i < text.Length)
        {
            var b = text[i];
            if (b != (byte)'\n' && b != (byte)'\r') { i++; continue; }
            if (b == (byte)'\r' && i + 1 == text.Length && !atEnd) return -1; // CR or CRLF: not known yet
            var end = b == (byte)'\r' && i + 1 < text.Length && text[i + 1] == (byte)'\n' ? i + 2 : i + 1;
            if (i == lineStart) return end;
            lineStart = i = end;
        }
        return atEnd ? text.Length : -1;
    }

    /// <summary>The lines of <paramref name="text"/> without their ends; a last line without an end counts.</summary>
    public static List<byte[]> Lines(ReadOnlySpan<byte> text)
    {
        var lines = new List<byte[]>();
        var i = 0;
        while (i < text.Length)
        {
            var n = text[i..].IndexOfAny((byte)'\n', (byte)'\r');
            if (n < 0) { lines.Add(text[i..].ToArray()); break; }
            lines.Add(text.Slice(i, n).ToArray());
            i += n;
            i += text[i] == (byte)'\r' && i + 1 < text.Length && text[i + 1] == (byte)'\n' ? 2 : 1;
        }
        return lines;
    }

    /// <summary>
    /// The fields of a header (the bytes before the body start). A line
    /// starting with space or tab continues the field above; a line without a
    /// colon (an mbox "From " line, say) is no field and cannot be signed.
    /// </summary>
    public static List<HeaderField> Fields(ReadOnlySpan<byte> header)
    {
        var fields = new List<HeaderField>();
        HeaderField? current = null;
        foreach (var line in Lines(header))
        {
            if (line.Length == 0) break;
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                current?.Lines.Add(line);
                continue;
            }
            var colon = Array.IndexOf(line, (byte)':');
            if (colon <= 0) { current = null; continue; }
            var name = line.AsSpan(0, colon).TrimEnd(" \t"u8);
            if (name.IsEmpty || name.IndexOfAny(" \t"u8) >= 0) { current = null; continue; }
            current = new HeaderField(name.ToArray(), [line]);
            fields.Add(current);
        }
        return fields;
    }

    /// <summary>The line end the message uses (that of its first line), for the header we add.</summary>
    public static byte[] LineEnd(ReadOnlySpan<byte> text)
    {
        var n = text.IndexOfAny((byte)'\n', (byte)'\r');
        return n >= 0 && text[n] == (byte)'\r' && n + 1 < text.Length && text[n + 1] == (byte)'\n' ? "\r\n"u8.ToArray() : "\n"u8.ToArray();
    }
}
