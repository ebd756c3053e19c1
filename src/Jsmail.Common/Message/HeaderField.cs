namespace Jsmail.Common.Message;

/// <summary>
/// One header field as it came (RFC 5322 §2.2): its name, and its lines with
/// their line ends, continuation lines included, so folding is kept.
/// </summary>
public sealed class HeaderField
{
    private readonly List<byte[]> _rawLines;
    private readonly HeaderLineEnds _ends;

    private HeaderField(byte[] name, byte[] firstLine, HeaderLineEnds ends)
    {
        Name = name;
        _rawLines = [firstLine];
        _ends = ends;
    }

    /// <summary>The name: the bytes before the colon, less the spaces and tabs before it.</summary>
    public byte[] Name { get; }

    /// <summary>The lines as read, each with its line end (a last line of the input may have none).</summary>
    public IReadOnlyList<byte[]> RawLines => _rawLines;

    /// <summary>The field exactly as it came.</summary>
    public byte[] Raw()
    {
        var raw = new List<byte>();
        foreach (var line in _rawLines) raw.AddRange(line);
        return raw.ToArray();
    }

    /// <summary>The lines without their line ends.</summary>
    public List<byte[]> Lines()
    {
        var lines = new List<byte[]>(_rawLines.Count);
        foreach (var line in _rawLines) lines.Add(line[..^EndLength(line, _ends)]);
        return lines;
    }

    /// <summary>
    /// The field unfolded (RFC 5322 §2.2.3): its line ends removed, the
    /// spaces and tabs that began continuation lines kept.
    /// </summary>
    public byte[] Unfolded()
    {
        var text = new List<byte>();
        foreach (var line in _rawLines) text.AddRange(line.AsSpan(0, line.Length - EndLength(line, _ends)));
        return text.ToArray();
    }

    /// <summary>The unfolded value: everything after the colon.</summary>
    public byte[] Value()
    {
        var text = Unfolded();
        return text[(Array.IndexOf(text, (byte)':') + 1)..];
    }

    /// <summary>
    /// The fields of a header (the bytes before the body, as a
    /// <see cref="HeaderReader"/> found them). A line starting with space or
    /// tab continues the field above; a line that starts no field (no colon,
    /// an empty name or one holding space or tab, such as an mbox "From "
    /// line) is skipped with its continuation lines.
    /// </summary>
    public static List<HeaderField> ReadAll(ReadOnlySpan<byte> header, HeaderLineEnds ends)
    {
        var fields = new List<HeaderField>();
        HeaderField? current = null;
        var reader = new HeaderReader(ends);
        HeaderLineSink take = line =>
        {
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                current?._rawLines.Add(line.ToArray());
                return true;
            }
            current = NameOf(line) is { } name ? new HeaderField(name, line.ToArray(), ends) : null;
            if (current != null) fields.Add(current);
            return true;
        };
        reader.Feed(header, take);
        reader.Finish(take);
        return fields;
    }

    private static byte[]? NameOf(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0) return null;
        var name = line[..colon].TrimEnd(" \t"u8);
        return name.IsEmpty || name.IndexOfAny(" \t"u8) >= 0 ? null : name.ToArray();
    }

    /// <summary>How many bytes at the end of a complete line are its line end.</summary>
    private static int EndLength(ReadOnlySpan<byte> line, HeaderLineEnds ends)
    {
        if (line.IsEmpty) return 0;
        if (line[^1] == (byte)'\n')
            return ends == HeaderLineEnds.LfCrlfOrCr && line.Length > 1 && line[^2] == (byte)'\r' ? 2 : 1;
        return ends == HeaderLineEnds.LfCrlfOrCr && line[^1] == (byte)'\r' ? 1 : 0;
    }
}
