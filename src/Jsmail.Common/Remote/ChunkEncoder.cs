namespace Jsmail.Common.Remote;

/// <summary>
/// Turns a queued message into the bytes BDAT carries (RFC 3030). BDAT has
/// no end-of-data line, so nothing is dot-stuffed and no final dot follows.
/// <para>A text message (7BIT, 8BITMIME): line ends as <see cref="DataEncoder"/>
/// makes them (LF becomes CRLF, CRLF stays, a lone CR becomes CRLF), since
/// RFC 3030 §3 keeps such a message in lines; a last line without a line end
/// goes as it is, without one: BDAT, unlike DATA, can carry it without adding
/// a byte, and RFC 5322 §3.5 allows a body that ends so.</para>
/// <para>A binary message (BODY=BINARYMIME): the body goes byte for byte as
/// queued. Only the header section is touched: jsmail-smtpd queued the
/// client's bytes as they came (CRLF) under its own Received line (LF, as
/// every queued header is), and header lines end in CRLF on the wire (RFC
/// 5322; RFC 3030 makes only the body binary), so a bare LF there gets its CR.
/// The header section ends at its first empty line.</para>
/// Fed in pieces of any size.
/// </summary>
public sealed class ChunkEncoder(bool binary)
{
    private bool _pendingCr;
    /// <summary>Binary: still in the header section, and the bytes of its current line so far (a CR before the LF not counted).</summary>
    private bool _inHeader = true;
    private int _lineBytes;
    private bool _lastWasCr;

    public void Encode(ReadOnlySpan<byte> input, List<byte> output)
    {
        if (binary) { EncodeBinary(input, output); return; }
        foreach (var b in input)
        {
            if (_pendingCr)
            {
                _pendingCr = false;
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (b == (byte)'\n') continue; // CRLF: one line end, not two
            }
            switch (b)
            {
                case (byte)'\r':
                    _pendingCr = true;
                    break;
                case (byte)'\n':
                    output.Add((byte)'\r');
                    output.Add((byte)'\n');
                    break;
                default:
                    output.Add(b);
                    break;
            }
        }
    }

    private void EncodeBinary(ReadOnlySpan<byte> input, List<byte> output)
    {
        var i = 0;
        for (; i < input.Length && _inHeader; i++)
        {
            var b = input[i];
            if (b != (byte)'\n')
            {
                output.Add(b);
                if (_lastWasCr) _lineBytes++; // a CR inside the line is part of it
                _lastWasCr = b == (byte)'\r';
                if (!_lastWasCr) _lineBytes++;
                continue;
            }
            if (!_lastWasCr) output.Add((byte)'\r');
            output.Add((byte)'\n');
            if (_lineBytes == 0) _inHeader = false; // the empty line: the body follows
            _lineBytes = 0;
            _lastWasCr = false;
        }
        if (i < input.Length) output.AddRange(input[i..]);
    }

    /// <summary>Ends the message: a text message's trailing lone CR is a line end (CRLF), as qmail sends it; a binary one has nothing held back.</summary>
    public void Finish(List<byte> output)
    {
        if (binary || !_pendingCr) return;
        _pendingCr = false;
        output.Add((byte)'\r');
        output.Add((byte)'\n');
    }
}
