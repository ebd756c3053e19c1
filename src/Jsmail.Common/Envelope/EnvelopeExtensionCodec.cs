using System.Text;

namespace Jsmail.Common.Envelope;

public sealed class EnvelopeExtensionException(string message) : FormatException(message);

/// <summary>
/// The extension block, written after the final NUL of a qmail envelope and
/// stored as queue/ext/&lt;split&gt;/&lt;id&gt;:
/// <code>
/// X1\0                      marks the block, version 1
/// M&lt;KEYWORD&gt;[=value]\0     a MAIL FROM parameter
/// R&lt;index&gt;\0               the following P records belong to T record number index
/// P&lt;KEYWORD&gt;[=value]\0     a RCPT TO parameter of that recipient
/// \0                        end of block
/// </code>
/// Every keyword and value is checked before it is written and when it is read,
/// so nothing with CR, LF, NUL or control bytes ever reaches a queue file.
/// </summary>
public static class EnvelopeExtensionCodec
{
    public const int MaxKeyword = 64;
    public const int MaxValue = 1002;
    public const int MaxBlock = 4 << 20;

    /// <summary>Null if the keyword and value may be stored, else why not.</summary>
    public static string? Check(string keyword, ReadOnlySpan<byte> value, bool hasValue)
    {
        if (keyword.Length is 0 or > MaxKeyword) return "keyword length";
        if (!char.IsAsciiLetterOrDigit(keyword[0])) return "keyword must start with a letter or digit";
        foreach (var c in keyword)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-') return "keyword character";
        if (!hasValue) return null;
        if (value.Length > MaxValue) return "value too long";
        foreach (var b in value)
            if (b < 33 || b == 127) return b is 0 or 10 or 13 ? "CR, LF or NUL in value" : "control byte in value";
        return null;
    }

    public static byte[] Encode(EnvelopeExtension ext)
    {
        var o = new List<byte>(64);
        Add(o, "X1"u8);
        foreach (var p in ext.Sender) AddParam(o, (byte)'M', p);
        foreach (var (index, list) in ext.Recipients)
        {
            if (list.Count == 0) continue;
            if (index < 0) throw new EnvelopeExtensionException("negative recipient index");
            Add(o, Encoding.ASCII.GetBytes("R" + index));
            foreach (var p in list) AddParam(o, (byte)'P', p);
        }
        o.Add(0);
        if (o.Count > MaxBlock) throw new EnvelopeExtensionException("extension block too large");
        return o.ToArray();
    }

    /// <summary>
    /// Decodes a whole block (as stored in ext/). recipientCount, when known,
    /// bounds the indexes. Throws EnvelopeExtensionException on anything malformed.
    /// </summary>
    public static EnvelopeExtension Decode(ReadOnlySpan<byte> block, int recipientCount = int.MaxValue)
    {
        var end = BlockLength(block);
        if (end < 0) throw new EnvelopeExtensionException("extension block not terminated");
        if (end != block.Length) throw new EnvelopeExtensionException("bytes after the extension block");

        var ext = new EnvelopeExtension();
        List<EsmtpParameter>? current = null;
        var lastIndex = -1;
        var first = true;
        foreach (var record in Records(block[..(end - 1)]))
        {
            var r = block.Slice(record.Start, record.Length);
            if (first)
            {
                if (!r.SequenceEqual("X1"u8)) throw new EnvelopeExtensionException("unknown extension version");
                first = false;
                continue;
            }
            if (r.Length == 0) throw new EnvelopeExtensionException("empty record");
            switch (r[0])
            {
                case (byte)'M':
                    if (current != null) throw new EnvelopeExtensionException("sender parameter after a recipient");
                    AddUnique(ext.Sender, ParseParam(r[1..]));
                    break;
                case (byte)'R':
                    var index = ParseIndex(r[1..]);
                    if (index <= lastIndex) throw new EnvelopeExtensionException("recipient indexes out of order");
                    if (index >= recipientCount) throw new EnvelopeExtensionException("recipient index beyond the envelope");
                    lastIndex = index;
                    current = ext.ForRecipient(index);
                    break;
                case (byte)'P':
                    if (current == null) throw new EnvelopeExtensionException("recipient parameter before R");
                    AddUnique(current, ParseParam(r[1..]));
                    break;
                default:
                    throw new EnvelopeExtensionException("unknown record type");
            }
        }
        if (first) throw new EnvelopeExtensionException("empty extension block");
        return ext;
    }

    /// <summary>
    /// Length of the block at the start of data, final empty record included,
    /// or -1 if data holds no complete block yet. The block must start with X.
    /// </summary>
    public static int BlockLength(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data[0] != (byte)'X') return -1;
        var pos = 0;
        while (pos < data.Length)
        {
            var nul = data[pos..].IndexOf((byte)0);
            if (nul < 0) return -1;
            if (nul == 0) return pos + 1;
            pos += nul + 1;
        }
        return -1;
    }

    private static IEnumerable<(int Start, int Length)> Records(ReadOnlySpan<byte> body)
    {
        var list = new List<(int, int)>();
        var pos = 0;
        while (pos < body.Length)
        {
            var nul = body[pos..].IndexOf((byte)0);
            list.Add((pos, nul));
            pos += nul + 1;
        }
        return list;
    }

    private static EsmtpParameter ParseParam(ReadOnlySpan<byte> r)
    {
        var eq = r.IndexOf((byte)'=');
        var keywordBytes = eq < 0 ? r : r[..eq];
        foreach (var b in keywordBytes)
            if (b >= 128) throw new EnvelopeExtensionException("keyword character");
        var keyword = Encoding.ASCII.GetString(keywordBytes);
        var value = eq < 0 ? ReadOnlySpan<byte>.Empty : r[(eq + 1)..];
        if (Check(keyword, value, eq >= 0) is { } why) throw new EnvelopeExtensionException(why);
        return new EsmtpParameter(keyword, eq < 0 ? null : value.ToArray());
    }

    private static int ParseIndex(ReadOnlySpan<byte> digits)
    {
        // One spelling per index: "R007" read as 7 would be written back "R7", and a file that does not round-trip is not ours.
        if (digits.Length is 0 or > 9 || (digits.Length > 1 && digits[0] == '0')) throw new EnvelopeExtensionException("bad recipient index");
        var n = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9') throw new EnvelopeExtensionException("bad recipient index");
            n = n * 10 + (b - '0');
        }
        return n;
    }

    private static void AddUnique(List<EsmtpParameter> list, EsmtpParameter p)
    {
        if (EnvelopeExtension.Find(list, p.Keyword) != null)
            throw new EnvelopeExtensionException("parameter given twice: " + p.Keyword);
        list.Add(p);
    }

    private static void AddParam(List<byte> o, byte type, EsmtpParameter p)
    {
        if (Check(p.Keyword, p.Value ?? default, p.Value != null) is { } why)
            throw new EnvelopeExtensionException(why + ": " + p.Keyword);
        o.Add(type);
        o.AddRange(Encoding.ASCII.GetBytes(p.Keyword));
        if (p.Value != null) { o.Add((byte)'='); o.AddRange(p.Value); }
        o.Add(0);
    }

    private static void Add(List<byte> o, ReadOnlySpan<byte> record)
    {
        foreach (var b in record) o.Add(b);
        o.Add(0);
    }
}
