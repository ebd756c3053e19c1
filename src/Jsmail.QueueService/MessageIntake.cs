using System.Collections.Concurrent;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// One request, as jsmail-queue would take it: the same placement
/// (<see cref="QueueCommit"/>), the same content scanners and the same exit
/// codes, with the message read from the descriptor the client passed and the
/// envelope from the request; the caller is the socket peer's uid. Runs on its
/// connection's thread, so a slow scanner holds up only its own message.
/// </summary>
public sealed class MessageIntake(string home, GroupCommitter committer, int servicePid)
{
    private long _pidSequence;
    private readonly ConcurrentDictionary<uint, string> _how = new();

    public QueueServiceReply Take(byte[] body, int messageFd, Libc.PeerCredentials peer)
    {
        if (!QueueServiceProtocol.TryDecodeRequest(body, out var envelope)) return Refuse(QueueExit.EnvelopeFormat, peer);
        if (messageFd < 0) return Refuse(QueueExit.ReadError, peer); // a request without its message

        // control/queuescanners is read per message, as jsmail-queue reads it: a change needs no restart.
        ContentScanner? scanner;
        try { scanner = ContentScanner.FromControl(new ControlReader(home), home); }
        catch (IOException) { return Refuse(QueueExit.ConfigError, peer); }

        string? customText = null;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var commit = new QueueCommit(servicePid, peer.Uid, now, QueueReceived.Line(servicePid, How(peer.Uid), now))
        {
            Message = new FileQueueInput(messageFd),
            Envelope = new BytesQueueInput(envelope),
            SyncEachFile = false,
            FirstPidSequence = Interlocked.Add(ref _pidSequence, 9) - 8,
            Scan = scanner == null ? null : request =>
            {
                // jsmail's own callers always offer the error pipe: a text always reaches the client.
                var verdict = scanner.Scan(request);
                if (verdict.Text == null) return verdict;
                customText = verdict.Text;
                return new ScanVerdict(QueueExit.CustomError);
            },
        };
        try
        {
            var exit = commit.Prepare();
            if (exit == QueueExit.Ok) exit = committer.Commit(commit);
            var text = exit == QueueExit.CustomError && customText != null ? Encoding.ASCII.GetBytes(customText) : [];
            Log(commit.Id, peer, commit.MessageBytes, exit, text);
            return new QueueServiceReply(exit, servicePid, exit == QueueExit.Ok ? commit.Id : 0, text);
        }
        finally { commit.CloseFiles(); }
    }

    /// <summary>A request refused before any file was made.</summary>
    private QueueServiceReply Refuse(int exit, Libc.PeerCredentials peer)
    {
        Log(0, peer, 0, exit, []);
        return new QueueServiceReply(exit, servicePid, 0, []);
    }

    /// <summary>"from network" for qmaild, "by uid N" for others (QueueReceived.How), looked up once per uid.</summary>
    private string How(uint uid)
    {
        if (_how.TryGetValue(uid, out var how)) return how;
        // getpwuid answers in one static buffer: one lookup at a time
        lock (_how) return _how.GetOrAdd(uid, u => QueueReceived.How(u, Libc.GetPasswd(u)?.Name));
    }

    /// <summary>One line per message on stderr: id, client uid and pid, bytes queued, exit code and its meaning.</summary>
    private static void Log(ulong id, Libc.PeerCredentials peer, long bytes, int exit, byte[] customText)
    {
        var result = QueueResult.FromExit(exit, false, customText);
        var outcome = result.Success ? "queued" : result.ToString();
        Console.Error.WriteLine($"jsmail-queued: msg {id} uid {peer.Uid} pid {peer.Pid} bytes {bytes} exit {exit} {outcome}");
    }
}
