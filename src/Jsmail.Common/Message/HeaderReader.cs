namespace Jsmail.Common.Message;

/// <summary>Which bytes end a line of a message header.</summary>
public enum HeaderLineEnds
{
    /// <summary>LF only, as qmail's programs read a message: a CR is text, so "\r\n" is no empty line.</summary>
    Lf,

    /// <summary>LF, CRLF or a lone CR: a message as the wire will see it, whichever way its lines end.</summary>
    LfCrlfOrCr,
}

/// <summary>Why a <see cref="HeaderReader"/> stopped.</summary>
public enum HeaderEnd
{
    /// <summary>Still reading.</summary>
    None,

    /// <summary>At the first empty line (RFC 5322 §2.1), which belongs to the header.</summary>
    EmptyLine,

    /// <summary>The line sink refused a line: the reader's caller decided the header ends with it.</summary>
    Refused,

    /// <summary>The input ended with no empty line: all of it was header.</summary>
    EndOfInput,
}

/// <summary>
/// Takes one header line, its line end included (a last line the input ended
/// without has none). The span is valid only during the call. False ends the
/// header with this line.
/// </summary>
public delegate bool HeaderLineSink(ReadOnlySpan<byte> line);

/// <summary>
/// The header of a message read as it streams by, in chunks of any size: hands
/// every line before the first empty line to a sink, and says where the header
/// ends. A line is held until its end arrives; with
/// <paramref name="lineLimit"/> only that many bytes of it are held and handed
/// over (a line cut so is longer than anything a caller compares it with), so
/// a caller that looks at the start of lines reads a header of any size in
/// bounded memory.
/// </summary>
public sealed class HeaderReader(HeaderLineEnds ends, int lineLimit = int.MaxValue)
{
    private readonly int _keep = Math.Max(lineLimit, 2); // an empty line ("\r\n" at most) is always seen whole
    private byte[] _line = new byte[Math.Min(Math.Max(lineLimit, 2), 256)];
    private int _kept;
    private long _lineLength;
    private bool _pendingCr; // a CR ended the last chunk: an LF may yet follow it

    public HeaderEnd End { get; private set; }

    public bool Done => End != HeaderEnd.None;

    /// <summary>The header's length so far; once <see cref="Done"/>, the offset of the body.</summary>
    public long Length { get; private set; }

    /// <summary>
    /// Reads the next bytes of the message; returns how many of them are
    /// header: all of them unless the header ended within the chunk.
    /// </summary>
    public int Feed(ReadOnlySpan<byte> chunk, HeaderLineSink sink)
    {
        if (Done) return 0;
        var i = 0;
        while (i < chunk.Length)
        {
            if (_pendingCr)
            {
                _pendingCr = false;
                if (chunk[i] == (byte)'\n') Append(chunk.Slice(i++, 1));
                if (EndLine(sink)) break;
                continue;
            }
            var rest = chunk[i..];
            var end = ends == HeaderLineEnds.Lf ? rest.IndexOf((byte)'\n') : rest.IndexOfAny((byte)'\n', (byte)'\r');
            if (end < 0)
            {
                Append(rest);
                i = chunk.Length;
                break;
            }
            Append(rest[..(end + 1)]);
            i += end + 1;
            if (rest[end] == (byte)'\r')
            {
                if (i == chunk.Length) { _pendingCr = true; break; }
                if (chunk[i] == (byte)'\n') Append(chunk.Slice(i++, 1));
            }
            if (EndLine(sink)) break;
        }
        Length += i;
        return i;
    }

    /// <summary>The input has ended: a last line without its end is handed over, and the header ends.</summary>
    public void Finish(HeaderLineSink sink)
    {
        if (Done) return;
        if (_pendingCr || _lineLength > 0)
        {
            _pendingCr = false;
            if (EndLine(sink)) return;
        }
        End = HeaderEnd.EndOfInput;
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        _lineLength += part.Length;
        var take = Math.Min(part.Length, _keep - _kept);
        if (take <= 0) return;
        if (_kept + take > _line.Length) Array.Resize(ref _line, (int)Math.Min(Math.Max(_line.Length * 2L, _kept + take), _keep));
        part[..take].CopyTo(_line.AsSpan(_kept));
        _kept += take;
    }

    /// <summary>The current line is complete; true when the header ended with it.</summary>
    private bool EndLine(HeaderLineSink sink)
    {
        var line = _line.AsSpan(0, _kept);
        var empty = _lineLength <= 2 && (line.SequenceEqual("\n"u8)
            || (ends == HeaderLineEnds.LfCrlfOrCr && (line.SequenceEqual("\r\n"u8) || line.SequenceEqual("\r"u8))));
        var refused = !empty && !sink(line);
        _kept = 0;
        _lineLength = 0;
        if (empty) End = HeaderEnd.EmptyLine;
        else if (refused) End = HeaderEnd.Refused;
        return Done;
    }
}
