using System.Buffers.Binary;

namespace Jsmail.Common.Queue;

/// <summary>
/// jsmail-queued's wire protocol (docs/jsmail-queued.md) over a Unix stream
/// socket. Every frame is a 4-byte big-endian length and that many bytes.
/// A request is the byte 1 (the version) and the envelope exactly as
/// jsmail-queue reads it on fd 1 (qmail's envelope, then the optional
/// extension block); the message itself never crosses the socket: its
/// descriptor (a memfd, or any regular file, read from offset 0 to its end)
/// travels with the frame's bytes as SCM_RIGHTS, one descriptor per request,
/// in request order. A reply is the exit code jsmail-queue would have
/// exited with, the queue's pid (qmail's "qp") and the message's id (its
/// inode, 0 when none was made), then the custom error text that jsmail-queue
/// would have written on the error pipe (empty but for exit 82).
/// Replies come in the order of the requests.
/// </summary>
public static class QueueServiceProtocol
{
    public const byte Version = 1;
    public const int LengthPrefix = 4;

    /// <summary>The largest request body: an envelope of many thousand recipients fits well; more is refused, not buffered.</summary>
    public const int MaxRequestBody = 16 << 20;

    private const int ReplyFixed = 1 + 4 + 8;
    public const int MaxReplyBody = ReplyFixed + QueueClient.MaxErrorText;

    public static byte[] EncodeRequest(ReadOnlySpan<byte> envelope)
    {
        var frame = new byte[LengthPrefix + 1 + envelope.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1 + envelope.Length);
        frame[LengthPrefix] = Version;
        envelope.CopyTo(frame.AsSpan(LengthPrefix + 1));
        return frame;
    }

    /// <summary>The envelope of a request body, or false when the body is not a version-1 request.</summary>
    public static bool TryDecodeRequest(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> envelope)
    {
        envelope = default;
        if (body.Length < 1 || body.Span[0] != Version) return false;
        envelope = body[1..];
        return true;
    }

    public static byte[] EncodeReply(QueueServiceReply reply)
    {
        var text = reply.ErrorText.AsSpan(0, Math.Min(reply.ErrorText.Length, QueueClient.MaxErrorText));
        var frame = new byte[LengthPrefix + ReplyFixed + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, ReplyFixed + text.Length);
        frame[LengthPrefix] = (byte)reply.ExitCode;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(LengthPrefix + 1), reply.QueuePid);
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(LengthPrefix + 5), reply.MessageId);
        text.CopyTo(frame.AsSpan(LengthPrefix + ReplyFixed));
        return frame;
    }

    /// <summary>A reply body, or false when it is malformed (the connection is then of no further use).</summary>
    public static bool TryDecodeReply(ReadOnlySpan<byte> body, out QueueServiceReply reply)
    {
        reply = default;
        if (body.Length < ReplyFixed || body.Length > MaxReplyBody) return false;
        reply = new QueueServiceReply(body[0], BinaryPrimitives.ReadInt32BigEndian(body[1..]),
            BinaryPrimitives.ReadUInt64BigEndian(body[5..]), body[ReplyFixed..].ToArray());
        return true;
    }
}

/// <summary>What jsmail-queued answers for one message: what jsmail-queue's exit code and error pipe carry, plus the pid and id.</summary>
public readonly record struct QueueServiceReply(int ExitCode, int QueuePid, ulong MessageId, byte[] ErrorText)
{
    /// <summary>The same result QueueClient derives from jsmail-queue's exit and error pipe.</summary>
    public QueueResult ToResult() => QueueResult.FromExit(ExitCode, callerWriteError: false, ErrorText);
}

/// <summary>
/// Cuts a byte stream into frames: bytes in (into <see cref="Space"/>, then
/// <see cref="Advance"/>), whole frame bodies out. A length above the limit
/// marks the stream <see cref="Broken"/>: nothing more is buffered for it.
/// </summary>
public sealed class QueueServiceFrames(int maxBody)
{
    private byte[] _buffer = new byte[4096];
    private int _start, _end;

    public bool Broken { get; private set; }

    /// <summary>Room for at least <paramref name="atLeast"/> more bytes.</summary>
    public Memory<byte> Space(int atLeast = 4096)
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_buffer.Length - _end < atLeast)
        {
            var live = _end - _start;
            var grown = _buffer.Length - live >= atLeast ? _buffer : new byte[Math.Max(_buffer.Length * 2, live + atLeast)];
            Array.Copy(_buffer, _start, grown, 0, live);
            _buffer = grown;
            _start = 0;
            _end = live;
        }
        return _buffer.AsMemory(_end);
    }

    public void Advance(int count) => _end += count;

    /// <summary>The next whole frame's body (a copy), or false when more bytes are needed or the stream is broken.</summary>
    public bool TryTake(out byte[] body)
    {
        body = [];
        if (Broken || _end - _start < QueueServiceProtocol.LengthPrefix) return false;
        var length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start));
        if (length < 0 || length > maxBody)
        {
            Broken = true;
            return false;
        }
        if (_end - _start - QueueServiceProtocol.LengthPrefix < length) return false;
        body = _buffer.AsSpan(_start + QueueServiceProtocol.LengthPrefix, length).ToArray();
        _start += QueueServiceProtocol.LengthPrefix + length;
        return true;
    }
}
