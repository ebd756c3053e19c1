namespace Jsmail.Common.Dkim;

/// <summary>Where canonical bytes go: a hash when signing, a list in the tests.</summary>
internal interface IByteSink
{
    void Write(ReadOnlySpan<byte> bytes);
}

/// <summary>
/// The "relaxed" body canonicalization of RFC 6376 §3.4.4, fed in chunks of
/// any size. Lines are the lines the message has on the wire, as jsmail-remote
/// sends it: LF, CRLF and a lone CR each end a line. Runs of space and tab
/// become one space, those at a line end go, empty lines at the end go, and a
/// non-empty body ends in CRLF.
/// </summary>
internal sealed class RelaxedBody(IByteSink sink)
{
    private readonly byte[] _buffer = new byte[16384];
    private int _used;
    private bool _pendingCr, _pendingSpace, _lineHasContent;
    private long _pendingEmptyLines;

    public void Feed(ReadOnlySpan<byte> input)
    {
        foreach (var b in input)
        {
            if (_pendingCr)
            {
                _pendingCr = false;
                EndLine();
                if (b == (byte)'\n') continue;
            }
            switch (b)
            {
                case (byte)'\r': _pendingCr = true; break;
                case (byte)'\n': EndLine(); break;
                case (byte)' ' or (byte)'\t': _pendingSpace = true; break;
                default:
                    if (!_lineHasContent)
                    {
                        for (; _pendingEmptyLines > 0; _pendingEmptyLines--) Emit("\r\n"u8);
                        _lineHasContent = true;
                    }
                    if (_pendingSpace) { Emit((byte)' '); _pendingSpace = false; }
                    Emit(b);
                    break;
            }
        }
    }

    /// <summary>Ends the body: a last line without a line end still counts as a line.</summary>
    public void Finish()
    {
        if (_pendingCr || _lineHasContent) EndLine();
        _pendingCr = false;
        if (_used > 0) sink.Write(_buffer.AsSpan(0, _used));
        _used = 0;
    }

    private void EndLine()
    {
        if (_lineHasContent) Emit("\r\n"u8);
        else _pendingEmptyLines++;
        _lineHasContent = false;
        _pendingSpace = false;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) Emit(b);
    }

    private void Emit(byte b)
    {
        if (_used == _buffer.Length)
        {
            sink.Write(_buffer);
            _used = 0;
        }
        _buffer[_used++] = b;
    }
}
