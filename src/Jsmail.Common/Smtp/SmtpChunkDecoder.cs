namespace Jsmail.Common.Smtp;

/// <summary>
/// The bytes of BDAT chunks (RFC 3030) as qmail's queue keeps a message: CRLF
/// becomes LF, as DATA's decoder makes it, and nothing else changes; there is
/// no dot-stuffing and no end-of-data line, so a bare LF or "\r\n.\r\n" is
/// just text. A CRLF may be split between two chunks: a CR at the end of one
/// is held until the next byte (or the end of the message) says what it was.
/// </summary>
public sealed class SmtpChunkDecoder
{
    private bool _heldCr;

    /// <summary>A CR not followed by LF went by (RFC 5321 §2.3.8 forbids it in text).</summary>
    public bool SawBareCr { get; private set; }

    /// <summary>The most <see cref="Decode"/> writes for an input of this length (a held CR comes out in front).</summary>
    public static int MaxOutput(int input) => input + 1;

    /// <summary>Decodes all of <paramref name="input"/> into <paramref name="output"/>; returns the bytes written.</summary>
    public int Decode(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var written = 0;
        foreach (var b in input)
        {
            if (_heldCr)
            {
                _heldCr = false;
                if (b != (byte)'\n')
                {
                    SawBareCr = true;
                    output[written++] = (byte)'\r';
                }
            }
            if (b == (byte)'\r') _heldCr = true;
            else output[written++] = b;
        }
        return written;
    }

    /// <summary>The last chunk ended: a CR still held was a bare one. Returns the bytes written (0 or 1).</summary>
    public int Finish(Span<byte> output)
    {
        if (!_heldCr) return 0;
        _heldCr = false;
        SawBareCr = true;
        output[0] = (byte)'\r';
        return 1;
    }
}

/// <summary>RFC 3030's <c>"BDAT" SP chunk-size [ SP end-marker ]</c>, the argument after the verb.</summary>
public static class BdatArgument
{
    /// <summary>Over this many digits a size could not be counted; no real chunk comes near it.</summary>
    private const int MaxDigits = 18;

    public static bool TryParse(ReadOnlySpan<byte> argument, out ulong size, out bool last)
    {
        size = 0;
        last = false;
        var space = argument.IndexOf((byte)' ');
        var digits = space < 0 ? argument : argument[..space];
        if (digits.Length is 0 or > MaxDigits) return false;
        foreach (var d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9') return false;
            size = size * 10 + (ulong)(d - '0');
        }
        if (space < 0) return true;
        var marker = argument[(space + 1)..];
        if (!Control.AsciiCaseInsensitive.Equals(marker, "LAST"u8)) return false;
        last = true;
        return true;
    }
}
