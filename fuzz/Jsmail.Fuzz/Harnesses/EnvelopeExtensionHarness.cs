using Jsmail.Common.Envelope;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>The envelope extension block (queue/ext): decode, re-encode, decode again.</summary>
public static class EnvelopeExtensionHarness
{
    public static void Run(byte[] data)
    {
        var length = EnvelopeExtensionCodec.BlockLength(data);
        That(length == -1 || length >= 1 && length <= data.Length, "BlockLength is -1 or within the input");
        if (length > 0) That(data[length - 1] == 0, "a block ends with NUL");

        EnvelopeExtension ext;
        try { ext = EnvelopeExtensionCodec.Decode(data, data.Length > 0 ? data[^1] % 8 + 1 : 1); }
        catch (EnvelopeExtensionException) { return; } // documented: anything malformed
        That(length == data.Length, "Decode takes exactly one whole block");

        var encoded = EnvelopeExtensionCodec.Encode(ext);
        var again = EnvelopeExtensionCodec.Decode(encoded);
        Same(EnvelopeExtensionCodec.Encode(again), encoded, "encoding is stable");
        That(Describe(again) == Describe(ext), "the parameters round-trip");
    }

    private static string Describe(EnvelopeExtension e)
    {
        var parts = e.Sender.Select(p => "M" + Param(p)).ToList();
        foreach (var (i, list) in e.Recipients)
            if (list.Count > 0) parts.Add($"R{i}:" + string.Join(",", list.Select(Param)));
        return string.Join(";", parts);
    }

    private static string Param(EsmtpParameter p) => p.Keyword + (p.Value == null ? "" : "=" + Convert.ToHexString(p.Value));
}
