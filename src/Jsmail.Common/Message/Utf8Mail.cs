using System.Text.Unicode;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Message;

/// <summary>
/// What RFC 6531 and RFC 6532 change for the programs that write addresses and
/// make envelopes outside SMTP (jsmail-inject, jsmail-local): when a message
/// needs SMTPUTF8, and which words may stay raw UTF-8. Callers use it only
/// outside JSMAIL_COMPAT=qmail; qmail treats every byte of 128 or more as a
/// byte to quote and marks nothing.
/// </summary>
public static class Utf8Mail
{
    /// <summary>The MAIL FROM parameter jsmail-smtpd stores for <c>MAIL ... SMTPUTF8</c> (docs/envelope.md).</summary>
    public const string Keyword = "SMTPUTF8";

    public static bool HasNonAscii(ReadOnlySpan<byte> s) => s.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;

    /// <summary>
    /// Non-ASCII bytes that are all well-formed UTF-8 (RFC 6532 §3.1). Other
    /// 8-bit bytes (Latin-1 and the like) are not UTF-8 text: they keep qmail's
    /// treatment, so legacy mail is written and routed as before.
    /// </summary>
    public static bool IsUtf8Text(ReadOnlySpan<byte> s) => HasNonAscii(s) && Utf8.IsValid(s);

    /// <summary>
    /// Whether a message needs SMTPUTF8: an envelope address with a byte of 128
    /// or more (RFC 6531 §3.3; jsmail-remote counts such an address the same
    /// way), or a header that carries UTF-8 (RFC 6532 §3.7: internationalized
    /// header fields go only to a peer that offers SMTPUTF8). A body with 8-bit
    /// bytes needs only 8BITMIME.
    /// </summary>
    public static bool NeedsSmtpUtf8(ReadOnlySpan<byte> sender, IEnumerable<byte[]> recipients, ReadOnlySpan<byte> header) =>
        HasNonAscii(sender) || recipients.Any(r => HasNonAscii(r)) || IsUtf8Text(header);

    /// <summary>The envelope with <c>SMTPUTF8</c> among its MAIL parameters, as jsmail-smtpd queues a <c>MAIL ... SMTPUTF8</c>.</summary>
    public static QueueEnvelope Marked(QueueEnvelope envelope)
    {
        var extension = envelope.Extension ?? new EnvelopeExtension();
        if (EnvelopeExtension.Find(extension.Sender, Keyword) == null) extension.Sender.Add(EsmtpParameter.Of(Keyword));
        return envelope with { Extension = extension };
    }
}

/// <summary>
/// Whether the header of a message read in chunks carries UTF-8 text
/// (<see cref="Utf8Mail.IsUtf8Text"/>), for a copy that streams through
/// without keeping the message: jsmail-local's forwards.
/// </summary>
public sealed class Utf8HeaderScan
{
    private readonly HeaderReader _header = new(HeaderLineEnds.Lf, lineLimit: 2); // only the header's end matters
    private readonly System.Text.Decoder _decoder = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private char[] _chars = [];
    private bool _nonAscii, _invalid;

    public bool IsUtf8Text => _nonAscii && !_invalid;

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        if (_header.Done) return;
        var part = chunk[.._header.Feed(chunk, static _ => true)];
        _nonAscii |= Utf8Mail.HasNonAscii(part);
        if (_invalid || !_nonAscii) return;
        // GetChars (not GetCharCount, which leaves the decoder as it was) keeps a sequence split between chunks for the next one
        if (_chars.Length < part.Length + 4) _chars = new char[part.Length + 4];
        try { _decoder.GetChars(part, _chars, flush: false); }
        catch (System.Text.DecoderFallbackException) { _invalid = true; }
    }
}
