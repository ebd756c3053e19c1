using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// One client connection, served on its own thread with blocking calls:
/// requests are taken in order, each with the descriptor that came with it,
/// and answered in order. It ends at the client's end of stream, or at a
/// frame too large or malformed (answered 91 first), or when the service stops
/// (its reading side is shut down: requests already sent are still served).
/// </summary>
public sealed class ServiceConnection(int socket, Libc.PeerCredentials peer, MessageIntake intake)
{
    public int Socket => socket;

    /// <summary>Descriptors received ahead of their requests; a client sends one per request and waits for its reply.</summary>
    private const int MaxPendingFds = 64;

    public void Serve()
    {
        var frames = new QueueServiceFrames(QueueServiceProtocol.MaxRequestBody);
        var fds = new List<int>();
        try
        {
            while (true)
            {
                if (frames.TryTake(out var body))
                {
                    // Descriptors arrive no later than the first byte of their request, in request order.
                    var messageFd = fds.Count > 0 ? fds[0] : -1;
                    if (fds.Count > 0) fds.RemoveAt(0);
                    using var message = new OwnedFd(messageFd);
                    var reply = intake.Take(body, message.Fd, peer);
                    if (!Libc.WriteAll(socket, QueueServiceProtocol.EncodeReply(reply))) return;
                    continue;
                }
                if (frames.Broken)
                {
                    Libc.WriteAll(socket, QueueServiceProtocol.EncodeReply(new QueueServiceReply(QueueExit.EnvelopeFormat, 0, 0, [])));
                    return;
                }
                var n = Libc.ReceiveWithFds(socket, frames.Space().Span, fds);
                if (n <= 0 || fds.Count > MaxPendingFds) return; // descriptors without requests: not a client of ours
                frames.Advance((int)n);
            }
        }
        finally
        {
            foreach (var fd in fds) Libc.Close(fd);
            // The socket is closed by the server, once no Stop can shut it down any more.
        }
    }
}
