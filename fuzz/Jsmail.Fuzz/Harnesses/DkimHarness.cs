using Jsmail.Common.Dkim;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// DKIM relaxed canonicalisation (RFC 6376 §3.4.2, §3.4.4): the input as a body
/// in any chunking, and its lines as one header field.
/// </summary>
public static class DkimHarness
{
    private sealed class Collect : IByteSink
    {
        public readonly List<byte> Bytes = new();
        public void Write(ReadOnlySpan<byte> bytes) => Bytes.AddRange(bytes);
    }

    public static void Run(byte[] data)
    {
        var body = Body(data, [data.Length]);
        Same(body, Body(data, Chunks(data.Length, data.Length > 0 ? data[0] : (byte)0)), "chunking does not change the canonical body");
        Same(body, Body(body, [body.Length]), "a canonical body is its own canonical form");
        var s = body.AsSpan();
        That(s.IndexOf((byte)'\t') < 0 && s.IndexOf("  "u8) < 0 && s.IndexOf(" \r\n"u8) < 0, "blank runs are one space, none at line ends");
        That(s.IsEmpty || s.EndsWith("\r\n"u8) && !s.EndsWith("\r\n\r\n"u8), "a body ends in one CRLF");
        for (var i = 0; i < s.Length; i++)
            That(s[i] != (byte)'\r' || i + 1 < s.Length && s[i + 1] == (byte)'\n', "every CR is a CRLF");

        var lines = Invariant.Lines(data).Select(l => l.Where(b => b is not ((byte)'\r' or (byte)'\n')).ToArray()).ToList();
        var header = RelaxedHeader.Canonicalize(lines);
        That(header.AsSpan().EndsWith("\r\n"u8), "a canonical field ends in CRLF");
        var colon = Array.IndexOf(header, (byte)':');
        if (colon < 0) return;
        var name = header.AsSpan(0, colon);
        That(name.IndexOfAny(" \t"u8) < 0 && !name.ContainsAnyInRange((byte)'A', (byte)'Z'), "the name is lower case, without blanks");
        var value = header.AsSpan(colon + 1, header.Length - colon - 3);
        That(value.IndexOf((byte)'\t') < 0 && value.IndexOf("  "u8) < 0, "blank runs in the value are one space");
        That(value.IsEmpty || value[0] != (byte)' ' && value[^1] != (byte)' ', "no blank around the value");
        Same(RelaxedHeader.Canonicalize([header[..^2]]), header, "a canonical field is its own canonical form");
    }

    private static byte[] Body(byte[] input, IEnumerable<int> chunks)
    {
        var sink = new Collect();
        var body = new RelaxedBody(sink);
        var at = 0;
        foreach (var n in chunks) { body.Feed(input.AsSpan(at, n)); at += n; }
        body.Finish();
        return sink.Bytes.ToArray();
    }
}
