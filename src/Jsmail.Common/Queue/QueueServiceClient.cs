using System.Collections.Concurrent;
using System.Net.Sockets;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>What jsmail-queued answered for one message, or what stood for its answer.</summary>
/// <param name="Result">the same QueueResult that jsmail-queue's exit and error pipe give</param>
/// <param name="QueuePid">qmail's "qp": the service's pid; -1 when it was not reached</param>
/// <param name="MessageId">the queued message's id (its inode), 0 unless queued</param>
/// <param name="Reached">false only when no request was sent (no service listening):
/// the message is certainly not queued, and the caller may fall back to jsmail-queue</param>
public readonly record struct QueueServiceAnswer(QueueResult Result, int QueuePid, ulong MessageId, bool Reached);

/// <summary>
/// The client of jsmail-queued (docs/jsmail-queued.md), for a long-running
/// caller such as server-mode jsmail-smtpd. Keeps a pool of connections, each
/// carrying one request at a time, opened as concurrency needs them, up to
/// <c>maxConnections</c>; a submission beyond that waits for a free one.
/// The message is a descriptor the caller filled (a memfd): it is passed,
/// never copied through the socket; the caller keeps and closes its own.
/// A service that cannot be reached gives "unable to exec qq", and one lost
/// mid-request gives "qq crashed": the texts QueueClient gives for a queue
/// program that cannot start or dies. Never a success without the service's.
/// </summary>
public sealed class QueueServiceClient(string socketPath, int maxConnections = 16) : IDisposable
{
    public const string Unreachable = "Zunable to exec qq (#4.3.0)";

    private readonly ConcurrentBag<Connection> _idle = [];
    private readonly SemaphoreSlim _slots = new(maxConnections, maxConnections);

    /// <summary>home/queued/socket, where jsmail-queued listens.</summary>
    public static string SocketPath(string home) => Path.Combine(home, "queued", "socket");

    public async ValueTask<QueueResult> SubmitAsync(int messageFd, QueueEnvelope envelope, CancellationToken cancel = default) =>
        (await SendAsync(messageFd, envelope.Encode(), cancel)).Result;

    /// <param name="messageFd">the message without the Received line, read from offset 0 to its end</param>
    /// <param name="envelope">the bytes jsmail-queue reads on fd 1: qmail's envelope and the optional extension block</param>
    public async ValueTask<QueueServiceAnswer> SendAsync(int messageFd, ReadOnlyMemory<byte> envelope, CancellationToken cancel = default)
    {
        if (envelope.Length + 1 > QueueServiceProtocol.MaxRequestBody)
            return new QueueServiceAnswer(QueueResult.FromExit(QueueExit.EnvelopeFormat, false, default), -1, 0, false);
        var frame = QueueServiceProtocol.EncodeRequest(envelope.Span);
        await _slots.WaitAsync(cancel);
        try
        {
            // A pooled connection the service has closed since (a restart) fails
            // at the send, before any byte went: then a fresh one is tried, once.
            while (_idle.TryTake(out var pooled))
            {
                var (answer, sent) = await pooled.ExchangeAsync(frame, messageFd, cancel);
                if (answer is { } a) return Keep(pooled, a);
                pooled.Dispose();
                if (sent) return Lost();
            }
            var fresh = await Connection.OpenAsync(socketPath, cancel);
            if (fresh == null) return new QueueServiceAnswer(QueueResult.Of(Unreachable), -1, 0, false);
            var (reply, _) = await fresh.ExchangeAsync(frame, messageFd, cancel);
            if (reply is { } r) return Keep(fresh, r);
            fresh.Dispose();
            return Lost();
        }
        finally { _slots.Release(); }
    }

    private QueueServiceAnswer Keep(Connection connection, QueueServiceReply reply)
    {
        _idle.Add(connection);
        return new QueueServiceAnswer(reply.ToResult(), reply.QueuePid, reply.MessageId, true);
    }

    private static QueueServiceAnswer Lost() => new(QueueResult.FromSignal(), -1, 0, true);

    public void Dispose()
    {
        while (_idle.TryTake(out var c)) c.Dispose();
    }

    private sealed class Connection(Socket socket) : IDisposable
    {
        private readonly QueueServiceFrames _frames = new(QueueServiceProtocol.MaxReplyBody);

        public static async ValueTask<Connection?> OpenAsync(string path, CancellationToken cancel)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
                return new Connection(socket);
            }
            catch (SocketException)
            {
                socket.Dispose();
                return null;
            }
        }

        /// <summary>One request and its reply; (null, whether any byte was sent) when the connection failed.</summary>
        public async ValueTask<(QueueServiceReply? Reply, bool Sent)> ExchangeAsync(byte[] frame, int messageFd, CancellationToken cancel)
        {
            var fd = (int)socket.Handle;
            var n = Libc.SendWithFd(fd, frame, messageFd);
            // Only one request is ever in flight here, so the socket buffer is
            // empty and takes the frame's start at once; a huge envelope's rest follows.
            if (n <= 0) return (null, false);
            try
            {
                if (n < frame.Length) await socket.SendAsync(frame.AsMemory((int)n), SocketFlags.None, cancel);
                while (true)
                {
                    if (_frames.TryTake(out var body))
                        return (QueueServiceProtocol.TryDecodeReply(body, out var reply) ? reply : null, true);
                    if (_frames.Broken) return (null, true);
                    var got = await socket.ReceiveAsync(_frames.Space(), SocketFlags.None, cancel);
                    if (got <= 0) return (null, true);
                    _frames.Advance(got);
                }
            }
            catch (SocketException) { return (null, true); }
        }

        public void Dispose() => socket.Dispose();
    }
}
