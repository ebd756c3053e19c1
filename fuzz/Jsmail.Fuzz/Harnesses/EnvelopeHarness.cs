using System.Buffers;
using Jsmail.Common.Envelope;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// qmail-queue's envelope on fd 1: the push parser over any chunking, and the
/// whole-envelope codec (with its extension block) re-encoded and decoded again.
/// </summary>
public static class EnvelopeHarness
{
    public static void Run(byte[] data)
    {
        var whole = Feed(data, [data.Length], out var parser, out var consumed);
        var chunked = Feed(data, Chunks(data.Length, data.Length > 0 ? data[^1] : (byte)0), out var parser2, out var consumed2);
        That(parser.Status == parser2.Status && consumed == consumed2 && parser.RecipientCount == parser2.RecipientCount,
            "chunking does not change the outcome");
        // After AddressTooLong the output is abandoned (qmail-queue exits 11): how much of it was written depends on the chunks.
        if (parser.Status != EnvelopeStatus.AddressTooLong) Same(whole, chunked, "chunking does not change the bytes");
        That(consumed <= data.Length, "consumed <= input");
        switch (parser.Status)
        {
            case EnvelopeStatus.Complete:
                Same(whole, data.AsSpan(0, consumed - 1), "the records are copied verbatim, final NUL apart");
                break;
            case EnvelopeStatus.Reading:
                That(consumed == data.Length, "Reading means all input was used");
                Same(whole, data, "the records so far are copied verbatim");
                break;
        }

        QueueEnvelope envelope;
        try { envelope = QueueEnvelope.Decode(data); }
        catch (FormatException) { return; } // documented: malformed envelope or extension block
        if (parser.Status != EnvelopeStatus.AddressTooLong)
        {
            That(parser.Status == EnvelopeStatus.Complete, "what Decode accepts the parser completes");
            That(parser.RecipientCount == envelope.Recipients.Count, "both count the same recipients");
        }
        var encoded = envelope.Encode();
        var again = QueueEnvelope.Decode(encoded);
        Same(again.Sender, envelope.Sender, "the sender round-trips");
        That(again.Recipients.Count == envelope.Recipients.Count, "the recipients round-trip");
        for (var i = 0; i < again.Recipients.Count; i++) Same(again.Recipients[i], envelope.Recipients[i], "each recipient round-trips");
        Same(again.Encode(), encoded, "encoding is stable");
        if (envelope.Extension is not { IsEmpty: false }) return;
        var block = EnvelopeExtensionCodec.Encode(envelope.Extension);
        That(encoded.AsSpan().EndsWith(block), "the extension block follows the envelope");
    }

    private static byte[] Feed(byte[] data, IEnumerable<int> chunks, out EnvelopeParser parser, out int consumed)
    {
        parser = new EnvelopeParser();
        var output = new ArrayBufferWriter<byte>();
        consumed = 0;
        foreach (var size in chunks)
        {
            var used = parser.Feed(data.AsSpan(consumed, Math.Min(size, data.Length - consumed)), output);
            That(used <= size, "a chunk's consumed <= its length");
            consumed += used;
            if (parser.Status != EnvelopeStatus.Reading) break;
        }
        return output.WrittenSpan.ToArray();
    }
}
