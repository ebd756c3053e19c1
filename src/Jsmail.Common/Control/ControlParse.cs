namespace Jsmail.Common.Control;

/// <summary>
/// How qmail turns the bytes of a control file into a value (interfaces §0.2).
/// Pure functions: the file's contents go in, the value comes out.
/// </summary>
public static class ControlParse
{
    /// <summary>
    /// A "line" value: the first line, with trailing spaces, tabs and its LF
    /// removed. CR is not removed, exactly as in qmail, so a CRLF file yields a
    /// value ending in CR. An empty file gives the empty value.
    /// </summary>
    public static byte[] Line(ReadOnlySpan<byte> file) => StripTrailing(FirstLine(file)).ToArray();

    /// <summary>
    /// An "integer" value: the unsigned decimal digits the first line starts with,
    /// or null if it does not start with a digit (no sign, no leading blanks), in
    /// which case the caller keeps its default. qmail lets an overlong number wrap;
    /// here it saturates at <see cref="uint.MaxValue"/> so that "huge" keeps meaning "huge".
    /// </summary>
    public static uint? Integer(ReadOnlySpan<byte> file)
    {
        ulong value = 0;
        int digits = 0;
        foreach (byte b in file)
        {
            if ((uint)(b - '0') > 9) break;
            value = Math.Min(value * 10 + (uint)(b - '0'), uint.MaxValue);
            digits++;
        }
        return digits == 0 ? null : (uint)value;
    }

    /// <summary>
    /// A "list" value: every line with trailing spaces and tabs removed; lines
    /// that are then empty, and lines starting with '#', are skipped. Leading
    /// whitespace is kept (so " #x" is an entry), and so is CR. A last line
    /// without LF counts.
    /// </summary>
    public static List<byte[]> List(ReadOnlySpan<byte> file)
    {
        var entries = new List<byte[]>();
        while (!file.IsEmpty)
        {
            int lf = file.IndexOf((byte)'\n');
            var line = StripTrailing(lf < 0 ? file : file[..lf]);
            file = lf < 0 ? default : file[(lf + 1)..];
            if (!line.IsEmpty && line[0] != '#') entries.Add(line.ToArray());
        }
        return entries;
    }

    private static ReadOnlySpan<byte> FirstLine(ReadOnlySpan<byte> file)
    {
        int lf = file.IndexOf((byte)'\n');
        return lf < 0 ? file : file[..lf];
    }

    private static ReadOnlySpan<byte> StripTrailing(ReadOnlySpan<byte> line) => line.TrimEnd(" \t"u8);
}
