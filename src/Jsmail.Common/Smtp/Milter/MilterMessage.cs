using Jsmail.Common.Control;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// A message as milters see and edit it: its header fields one by one (each
/// kept as its original bytes until a filter changes it) and its body. The
/// bytes are qmail's (LF line ends); milters get CRLF on the wire, as SMTP
/// carried it. Edits apply in the order the filter sends them.
/// </summary>
public sealed class MilterMessage
{
    /// <summary>One header field: its bytes with the final LF, and the name it is indexed by.</summary>
    public sealed record Field(byte[] Name, byte[] Raw);

    public List<Field> Fields { get; } = new();
    public byte[] Body { get; private set; } = [];
    private bool _separator;

    public static MilterMessage Parse(ReadOnlySpan<byte> message)
    {
        var m = new MilterMessage();
        var pos = 0;
        while (pos < message.Length)
        {
            var lineEnd = LineEnd(message, pos);
            var line = message[pos..lineEnd];
            if (line.IsEmpty || line.SequenceEqual("\n"u8)) { m._separator = true; pos = lineEnd; break; }
            var colon = line.IndexOf((byte)':');
            var name = colon > 0 ? line[..colon].TrimEnd(" \t"u8) : default;
            if (name.IsEmpty || name.IndexOfAny(" \t"u8) >= 0) break; // not a header field: the body starts here, without a blank line
            var end = lineEnd;
            while (end < message.Length && message[end] is (byte)' ' or (byte)'\t') end = LineEnd(message, end);
            m.Fields.Add(new Field(name.ToArray(), message[pos..end].ToArray()));
            pos = end;
        }
        m.Body = message[pos..].ToArray();
        return m;
    }

    private static int LineEnd(ReadOnlySpan<byte> s, int from)
    {
        var lf = s[from..].IndexOf((byte)'\n');
        return lf < 0 ? s.Length : from + lf + 1;
    }

    /// <summary>The value a milter gets: after the colon, one leading space dropped unless it asked for it, folds as CRLF.</summary>
    public static byte[] ValueOf(Field f, bool leadingSpace)
    {
        var v = f.Raw.AsSpan(f.Raw.AsSpan().IndexOf((byte)':') + 1);
        if (!leadingSpace && !v.IsEmpty && v[0] == (byte)' ') v = v[1..];
        if (!v.IsEmpty && v[^1] == (byte)'\n') v = v[..^1];
        return MilterText.ToCrlf(v);
    }

    public byte[] Serialize()
    {
        var size = Body.Length + 1;
        foreach (var f in Fields) size += f.Raw.Length;
        var o = new List<byte>(size);
        foreach (var f in Fields) o.AddRange(f.Raw);
        if (_separator || Body.Length > 0) o.Add((byte)'\n');
        o.AddRange(Body);
        return o.ToArray();
    }

    public void Add(byte[] name, byte[] value, bool leadingSpace) => Fields.Add(Make(name, value, leadingSpace));

    /// <summary>SMFIR_INSHEADER: before the field at this position (0: first), at the end past the last.</summary>
    public void Insert(uint index, byte[] name, byte[] value, bool leadingSpace) =>
        Fields.Insert((int)Math.Min(index, (uint)Fields.Count), Make(name, value, leadingSpace));

    /// <summary>SMFIR_CHGHEADER: the index-th (from 1) field of this name changes; an empty value deletes it; a missing one is added.</summary>
    public void Change(uint index, byte[] name, byte[] value, bool leadingSpace)
    {
        var seen = 0u;
        for (var i = 0; i < Fields.Count; i++)
        {
            if (!AsciiCase.EqualsIgnoringCase(Fields[i].Name, name) || ++seen != Math.Max(index, 1)) continue;
            if (value.Length == 0) Fields.RemoveAt(i);
            else Fields[i] = Make(name, value, leadingSpace);
            return;
        }
        if (value.Length > 0) Add(name, value, leadingSpace);
    }

    /// <summary>SMFIR_REPLBODY's chunks, joined: CRLF as the wire has it.</summary>
    public void ReplaceBody(byte[] crlfBody) => Body = MilterText.ToLf(crlfBody);

    private static Field Make(byte[] name, byte[] value, bool leadingSpace)
    {
        var lf = MilterText.ToLf(value);
        var o = new List<byte>(name.Length + lf.Length + 3);
        o.AddRange(name);
        o.Add((byte)':');
        if (!leadingSpace) o.Add((byte)' ');
        for (var i = 0; i < lf.Length; i++)
        {
            o.Add(lf[i]);
            // A fold must go on with white space, or the next line would be a field (or the body) of its own.
            if (lf[i] == (byte)'\n' && (i + 1 == lf.Length || lf[i + 1] is not ((byte)' ' or (byte)'\t'))) o.Add((byte)'\t');
        }
        if (o[^1] == (byte)'\t' && o[^2] == (byte)'\n') o.RemoveAt(o.Count - 1);
        if (o[^1] != (byte)'\n') o.Add((byte)'\n');
        return new Field(name, o.ToArray());
    }
}

/// <summary>Line ends between qmail's LF and the wire's CRLF.</summary>
public static class MilterText
{
    public static byte[] ToCrlf(ReadOnlySpan<byte> s)
    {
        var o = new List<byte>(s.Length + s.Length / 32 + 2);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == (byte)'\n' && (i == 0 || s[i - 1] != (byte)'\r')) o.Add((byte)'\r');
            o.Add(s[i]);
        }
        return o.ToArray();
    }

    public static byte[] ToLf(ReadOnlySpan<byte> s)
    {
        var o = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
            if (!(s[i] == (byte)'\r' && i + 1 < s.Length && s[i + 1] == (byte)'\n')) o.Add(s[i]);
        return o.ToArray();
    }
}
