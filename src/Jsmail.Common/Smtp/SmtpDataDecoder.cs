using Jsmail.Common.Control;

namespace Jsmail.Common.Smtp;

public enum SmtpDataStatus { More, End, BareLf, BareCr }

/// <summary>
/// The DATA stream of RFC 5321 §4.1.1.4 turned into a qmail message:
/// CRLF becomes LF, a leading '.' is removed, CRLF '.' CRLF ends it (the
/// decoder starts as if after a CRLF, so an immediate ".\r\n" is an empty
/// message). A bare LF anywhere is an error (notqmail: never take
/// &lt;LF&gt;.&lt;LF&gt; as the end); so is a CR not followed by LF unless
/// bare CRs are allowed, as qmail allows them (it keeps them as data).
/// Incremental: feed any chunking of the stream and get the same bytes.
/// </summary>
public sealed class SmtpDataDecoder(bool allowBareCr)
{
    private enum State { LineStart, Middle, Cr, Dot, DotCr }

    private State _state = State.LineStart;

    /// <summary>The most bytes <see cref="Decode"/> can write for <paramref name="inputLength"/> input bytes.</summary>
    public static int MaxOutput(int inputLength) => inputLength + 2;

    /// <summary>
    /// Decodes from input until the end of data, an error or the end of input.
    /// consumed counts input bytes used (on End, up to and including the final LF);
    /// written counts output bytes.
    /// </summary>
    public SmtpDataStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        var o = 0;
        var i = 0;
        try
        {
            for (; i < input.Length; i++)
            {
                var b = input[i];
                switch (_state)
                {
                    case State.LineStart:
                        if (b == (byte)'.') { _state = State.Dot; break; }
                        goto case State.Middle;
                    case State.Middle:
                        if (b == (byte)'\n') return SmtpDataStatus.BareLf;
                        if (b == (byte)'\r') { _state = State.Cr; break; }
                        output[o++] = b;
                        _state = State.Middle;
                        break;
                    case State.Cr:
                        if (b == (byte)'\n') { output[o++] = b; _state = State.LineStart; break; }
                        if (!allowBareCr) return SmtpDataStatus.BareCr;
                        output[o++] = (byte)'\r';
                        if (b != (byte)'\r') { output[o++] = b; _state = State.Middle; }
                        break;
                    case State.Dot:
                        if (b == (byte)'\n') return SmtpDataStatus.BareLf;
                        if (b == (byte)'\r') { _state = State.DotCr; break; }
                        output[o++] = b;
                        _state = State.Middle;
                        break;
                    case State.DotCr:
                        if (b == (byte)'\n') { i++; _state = State.LineStart; return SmtpDataStatus.End; }
                        if (!allowBareCr) return SmtpDataStatus.BareCr;
                        output[o++] = (byte)'.';
                        output[o++] = (byte)'\r';
                        if (b == (byte)'\r') { _state = State.Cr; break; }
                        output[o++] = b;
                        _state = State.Middle;
                        break;
                }
            }
            return SmtpDataStatus.More;
        }
        finally
        {
            consumed = i;
            written = o;
        }
    }
}

/// <summary>
/// qmail's loop detection: header lines (up to the first empty line) that
/// start with "received" or "delivered", case-insensitively, counted over the
/// decoded message as it streams by.
/// </summary>
public sealed class SmtpHopCounter
{
    private static readonly byte[] Received = "received"u8.ToArray(), Delivered = "delivered"u8.ToArray();
    private bool _inHeader = true, _lineStart = true;
    private byte[]? _word; // the word the current line may still start with
    private int _matched;

    public int Hops { get; private set; }

    public void Feed(ReadOnlySpan<byte> decoded)
    {
        foreach (var b in decoded)
        {
            if (!_inHeader) return;
            if (b == (byte)'\n')
            {
                if (_lineStart) { _inHeader = false; return; }
                _lineStart = true;
                continue;
            }
            var lower = AsciiCase.Lower(b);
            if (_lineStart)
            {
                _lineStart = false;
                _word = lower == (byte)'r' ? Received : lower == (byte)'d' ? Delivered : null;
                _matched = 1;
            }
            else if (_word != null)
            {
                if (_word[_matched] != lower) { _word = null; continue; }
                _matched++;
            }
            if (_word != null && _matched == _word.Length)
            {
                Hops++;
                _word = null;
            }
        }
    }
}
