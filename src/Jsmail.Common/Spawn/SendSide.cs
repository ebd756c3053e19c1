using System.Buffers;

namespace Jsmail.Common.Spawn;

/// <summary>
/// qmail-send's half of the spawner protocol (interfaces §2.8, §2.9): the
/// delivery command it writes to a spawner and the result stream it reads back.
/// Pure codecs; the descriptors belong to jsmail-send.
/// </summary>
public static class DeliveryCommand
{
    /// <summary>
    /// <c>&lt;slot&gt;&lt;split&gt;/&lt;id&gt;\0&lt;sender&gt;\0&lt;recipient&gt;\0</c>, the sender
    /// VERP-expanded for this recipient. One recipient per command, as qmail.
    /// </summary>
    public static byte[] Encode(byte slot, ulong id, int split, ReadOnlySpan<byte> sender, ReadOnlySpan<byte> recipient)
    {
        var w = new ArrayBufferWriter<byte>(32 + sender.Length * 2 + recipient.Length * 2);
        w.Write([slot]);
        w.Write(System.Text.Encoding.ASCII.GetBytes($"{id % (ulong)split}/{id}"));
        w.Write([(byte)0]);
        w.Write(Verp.Expand(sender, recipient));
        w.Write([(byte)0]);
        w.Write(recipient);
        w.Write([(byte)0]);
        return w.WrittenSpan.ToArray();
    }
}

/// <summary>qmail's variable envelope return path: <c>prefix@host-@[]</c> becomes <c>prefix</c>+box=dom<c>@host</c>.</summary>
public static class Verp
{
    private static ReadOnlySpan<byte> Marker => "-@[]"u8;

    /// <summary>The sender a spawner is given for <paramref name="recipient"/>; unchanged unless it is a VERP sender.</summary>
    public static byte[] Expand(ReadOnlySpan<byte> sender, ReadOnlySpan<byte> recipient)
    {
        if (sender.EndsWith(Marker))
        {
            var body = sender[..^Marker.Length];
            var at = body.LastIndexOf((byte)'@');
            var rat = recipient.LastIndexOf((byte)'@');
            if (at >= 0 && rat >= 0)
            {
                var o = new byte[at + rat + 1 + (recipient.Length - rat - 1) + 1 + (body.Length - at - 1)];
                var span = o.AsSpan();
                body[..at].CopyTo(span);
                span = span[at..];
                recipient[..rat].CopyTo(span);
                span = span[rat..];
                span[0] = (byte)'=';
                recipient[(rat + 1)..].CopyTo(span[1..]);
                span = span[(recipient.Length - rat)..];
                span[0] = (byte)'@';
                body[(at + 1)..].CopyTo(span[1..]);
                return o;
            }
        }
        return sender.ToArray();
    }

    /// <summary>True for a sender that <see cref="Expand"/> may change per recipient.</summary>
    public static bool IsVerp(ReadOnlySpan<byte> sender) => sender.EndsWith(Marker);

    /// <summary>A VERP sender without its trailing <c>-@[]</c> (where a bounce goes); others unchanged.</summary>
    public static byte[] StripMarker(ReadOnlySpan<byte> sender) =>
        sender.EndsWith(Marker) ? sender[..^Marker.Length].ToArray() : sender.ToArray();
}

/// <summary>How qmail-send writes report texts and addresses into its log: LF becomes '/', '%' and bytes outside 33..126 become '_'.</summary>
public static class LogSafe
{
    public static byte[] Of(ReadOnlySpan<byte> text)
    {
        var o = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            o[i] = b == (byte)'\n' ? (byte)'/' : b is < 33 or > 126 or (byte)'%' ? (byte)'_' : b;
        }
        return o;
    }
}

/// <summary>One spawner result: <c>&lt;slot&gt;&lt;status&gt;&lt;text&gt;\0</c>. Status is K, Z, D or anything else (mangled).</summary>
public readonly record struct DeliveryResult(byte Slot, byte Status, byte[] Text);

/// <summary>
/// Splits a spawner's result stream into results, as qmail-send does: at most
/// <see cref="MaxLine"/> bytes of a line are kept, the rest dropped until its
/// NUL; a NUL ends a result only when at least one byte precedes it (a NUL at
/// the very start of a line is taken as the slot byte).
/// </summary>
public sealed class ResultDecoder
{
    public const int MaxLine = 10000;

    private readonly byte[] _line = new byte[MaxLine];
    private int _length;

    public void Feed(ReadOnlySpan<byte> data, List<DeliveryResult> into)
    {
        foreach (var b in data)
        {
            if (_length < MaxLine) _line[_length++] = b;
            if (b != 0 || _length <= 1) continue;
            // With the line full, the terminating NUL itself was dropped.
            var end = _line[_length - 1] == 0 && _length > 1 ? _length - 1 : _length;
            var status = _line[1];
            var text = end > 2 ? _line.AsSpan(2, end - 2).ToArray() : [];
            into.Add(new DeliveryResult(_line[0], status, text));
            _length = 0;
        }
    }

    /// <summary>True while a partial result is buffered.</summary>
    public bool HasPartial => _length > 0;
}
