namespace Jsmail.Common.Remote;

/// <summary>
/// Turns a message into SMTP DATA as qmail-remote does (§6.6): a line starting
/// with '.' gets another '.', LF becomes CRLF, CRLF stays CRLF, a lone CR
/// becomes CRLF. Fed in chunks of any size; nothing it emits ever holds a bare
/// CR or LF. A message whose last line has no LF cannot be sent.
/// </summary>
public sealed class DataEncoder
{
    private bool _atLineStart = true;
    private bool _pendingCr;

    /// <summary>True once a line is open (bytes since the last line end).</summary>
    public bool PartialLine => !_atLineStart || _pendingCr;

    public void Encode(ReadOnlySpan<byte> input, List<byte> output)
    {
        foreach (var b in input)
        {
            if (_pendingCr)
            {
                _pendingCr = false;
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                _atLineStart = true;
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
                    _atLineStart = true;
                    break;
                default:
                    if (_atLineStart && b == (byte)'.') output.Add((byte)'.');
                    output.Add(b);
                    _atLineStart = false;
                    break;
            }
        }
    }

    /// <summary>
    /// Ends the message. A trailing lone CR counts as a line end (qmail sends
    /// CRLF for it); a last line without any line end is refused.
    /// </summary>
    public bool TryFinish(List<byte> output)
    {
        if (_pendingCr)
        {
            _pendingCr = false;
            output.Add((byte)'\r');
            output.Add((byte)'\n');
            _atLineStart = true;
        }
        if (!_atLineStart) return false;
        output.AddRange(".\r\n"u8.ToArray());
        return true;
    }
}
