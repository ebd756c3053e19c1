using Jsmail.Common.Smtp;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// The DATA stream decoder: byte 0 picks bare-CR tolerance and the chunking, the
/// rest is the stream. Any chunking decodes alike; on End the message re-encoded
/// (dot-stuffed, CRLF) decodes to itself.
/// </summary>
public static class SmtpDataHarness
{
    public static void Run(byte[] data)
    {
        if (data.Length == 0) return;
        var allowBareCr = (data[0] & 0x80) != 0;
        var stream = data.AsSpan(1);

        var whole = Decode(stream, allowBareCr, [stream.Length], out var status, out var consumed);
        var chunked = Decode(stream, allowBareCr, Chunks(stream.Length, data[0]), out var status2, out var consumed2);
        That(status == status2 && consumed == consumed2, "chunking does not change the outcome");
        Same(whole, chunked, "chunking does not change the bytes");
        That(consumed <= stream.Length, "consumed <= input");
        That(whole.Length <= SmtpDataDecoder.MaxOutput(consumed), "written <= MaxOutput(consumed)");
        if (status != SmtpDataStatus.End) return;
        That(stream[..consumed].EndsWith("\r\n.\r\n"u8) || consumed == 3 && stream.StartsWith(".\r\n"u8), "End comes after CRLF . CRLF");

        var again = Decode(Stuff(whole), allowBareCr, [int.MaxValue], out var status3, out _);
        That(status3 == SmtpDataStatus.End, "a re-encoded message ends");
        Same(again, whole, "a re-encoded message decodes to itself");
    }

    private static byte[] Decode(ReadOnlySpan<byte> stream, bool allowBareCr, IEnumerable<int> chunks, out SmtpDataStatus status, out int consumed)
    {
        var decoder = new SmtpDataDecoder(allowBareCr);
        var o = new List<byte>();
        consumed = 0;
        status = SmtpDataStatus.More;
        foreach (var size in chunks)
        {
            var piece = stream.Slice(consumed, Math.Min(size, stream.Length - consumed));
            var output = new byte[SmtpDataDecoder.MaxOutput(piece.Length)];
            status = decoder.Decode(piece, output, out var used, out var written);
            That(used <= piece.Length && written <= output.Length, "a chunk's counts stay in bounds");
            That(status == SmtpDataStatus.More ? used == piece.Length : used <= piece.Length, "More means the chunk was used up");
            o.AddRange(output.AsSpan(0, written));
            consumed += used;
            if (status != SmtpDataStatus.More || consumed == stream.Length) break;
        }
        return o.ToArray();
    }

    /// <summary>The SMTP form of a qmail message: a leading '.' doubled, LF as CRLF, then ".\r\n".</summary>
    private static byte[] Stuff(byte[] message)
    {
        var o = new List<byte>();
        var lineStart = true;
        foreach (var b in message)
        {
            if (lineStart && b == (byte)'.') o.Add(b);
            if (b == (byte)'\n') o.Add((byte)'\r');
            o.Add(b);
            lineStart = b == (byte)'\n';
        }
        That(lineStart, "a decoded message ends at a line end");
        o.AddRange(".\r\n"u8);
        return o.ToArray();
    }
}
