using System.Text;

namespace Jsmail.Common.Smtp;

/// <summary>
/// A complete SMTP reply: its code and its lines as received (CR removed, NUL
/// turned into '?', each at most 5000 bytes), as qmail-remote keeps them for
/// "Remote host said:".
/// </summary>
public sealed class ServerReply(int code, List<byte[]> lines)
{
    public int Code { get; } = code;
    public IReadOnlyList<byte[]> Lines { get; } = lines;

    /// <summary>Every line followed by LF, as quoted in delivery reports.</summary>
    public byte[] Text
    {
        get
        {
            var o = new List<byte>();
            foreach (var l in Lines) { o.AddRange(l); o.Add((byte)'\n'); }
            return o.ToArray();
        }
    }

    /// <summary>The extension keywords of an EHLO reply (first word of each line after the first), upper case.</summary>
    public IEnumerable<(string Keyword, string Argument)> Extensions =>
        Lines.Skip(1).Select(l =>
        {
            var text = Encoding.Latin1.GetString(l.AsSpan(Math.Min(4, l.Length))).Trim();
            var sp = text.IndexOf(' ');
            return sp < 0 ? (text.ToUpperInvariant(), "") : (text[..sp].ToUpperInvariant(), text[(sp + 1)..]);
        });

    public override string ToString() => Encoding.Latin1.GetString(Text);
}

/// <summary>
/// Collects reply lines: three digits, then '-' for a continuation or anything
/// else for the last line. Pure: feed it lines without their LF.
/// </summary>
public sealed class ServerReplyParser
{
    public const int MaxLine = 5000;
    private readonly List<byte[]> _lines = new();
    private int _code;

    /// <summary>Adds one line; returns the reply when it was the last line.</summary>
    public ServerReply? Add(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (line.Length > MaxLine) line = line[..MaxLine];
        var kept = line.ToArray();
        for (var i = 0; i < kept.Length; i++)
            if (kept[i] == 0) kept[i] = (byte)'?';
        if (_lines.Count == 0) _code = CodeOf(line);
        _lines.Add(kept);
        var continues = line.Length > 3 && line[3] == (byte)'-';
        if (continues) return null;
        var reply = new ServerReply(_code, new List<byte[]>(_lines));
        _lines.Clear();
        return reply;
    }

    /// <summary>The code of a line: its first three digits, or 0 (qmail treats a malformed reply as a failure).</summary>
    public static int CodeOf(ReadOnlySpan<byte> line)
    {
        if (line.Length < 3) return 0;
        var code = 0;
        for (var i = 0; i < 3; i++)
        {
            if (line[i] is < (byte)'0' or > (byte)'9') return 0;
            code = code * 10 + (line[i] - '0');
        }
        return code;
    }
}
