using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>
/// Carries out the operator's changes (docs/jsmail.md). Whether jsmail-send
/// runs is what lock/sendmutex says: jsmail-send (and qmail-send) hold an
/// exclusive flock on it for as long as they run. If the command gets the lock,
/// no queue manager runs and none can start while it is held (one would exit
/// with "qmail-send is already running" and be restarted by its supervisor),
/// so the command edits the files itself. Otherwise it asks jsmail-send over
/// queue/command/send and jsmail-send's scheduler makes the change between passes.
/// Runs in queue/.
/// </summary>
public sealed class QueueChanger : IDisposable
{
    private readonly string _home;
    private readonly int _mutex;

    /// <summary>Whether jsmail-send runs (the lock is not ours).</summary>
    public bool SendRuns { get; }

    public QueueChanger(string home)
    {
        _home = home;
        _mutex = Libc.Open(QueueLayout.SendMutex, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (_mutex < 0)
            throw new CliException($"unable to open queue/{QueueLayout.SendMutex}: {ErrorText.Describe(Libc.Errno)} (run as root or as the queue's owner)");
        if (Libc.Flock(_mutex, Libc.LOCK_EX | Libc.LOCK_NB) == 0) return;
        if (Libc.Errno != Errno.EWOULDBLOCK) throw new CliException($"unable to lock queue/{QueueLayout.SendMutex}: {ErrorText.Describe(Libc.Errno)}");
        SendRuns = true;
    }

    /// <summary>Makes the change; the line to print, or a CliException.</summary>
    public string Apply(QueueCommand command)
    {
        if (command.Verb is QueueVerb.Hold or QueueVerb.Release && Compat.IsQmail)
            throw new CliException("hold and release are refused under JSMAIL_COMPAT=qmail: they add queue/hold, which qmail's queue has not", 100);
        return SendRuns ? Ask(command) : Direct(command);
    }

    /// <summary>Asks jsmail-send how many deliveries are due now or under way; null when it does not run (or cannot say).</summary>
    public int? Pending()
    {
        if (!SendRuns) return null;
        try { return int.TryParse(Ask(new QueueCommand(QueueVerb.Pending, 0)), out var n) ? n : null; }
        catch (CliException) { return null; }
    }

    private static string Ask(QueueCommand command)
    {
        if (Libc.StatPath(QueueLayout.CommandSocket, out _) != 0)
            throw new CliException("qmail-send is running without a command channel (JSMAIL_COMPAT=qmail, a real qmail-send, or a queue without queue/command): stop it to change the queue");
        using var socket = new OwnedFd(Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0));
        if (!socket.IsOpen || Libc.ConnectUnix(socket.Fd, QueueLayout.CommandSocket) != 0)
            throw new CliException($"unable to reach jsmail-send on queue/{QueueLayout.CommandSocket}: {ErrorText.Describe(Libc.Errno)}");
        if (!Libc.WriteAll(socket.Fd, command.Encode())) throw new CliException("unable to write to jsmail-send");
        var reply = Encoding.UTF8.GetString(FdRead.AllOrNull(socket.Fd) ?? []).TrimEnd('\n');
        if (reply.StartsWith("ok ", StringComparison.Ordinal)) return reply[3..];
        throw new CliException(reply.StartsWith("error ", StringComparison.Ordinal) ? reply[6..] : "jsmail-send gave no answer");
    }

    private string Direct(QueueCommand command)
    {
        var id = command.Id;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        const string Later = " (jsmail-send is not running: it takes effect when it starts)";
        if (command.Verb == QueueVerb.Flush)
        {
            var n = 0;
            foreach (var m in QueuedMessage.Ids())
                if (!HoldMark.IsHeld(m) && QueueEdits.DueNow(m, now)) n++;
            return $"{n} message(s) due now" + Later;
        }
        if (Libc.StatPath(QueueLayout.Mess(id), out _) != 0) throw new CliException($"no message {id} in the queue");
        var unprocessed = Libc.StatPath(QueueLayout.Info(id), out _) != 0;
        switch (command.Verb)
        {
            case QueueVerb.Hold:
                if (!HoldMark.Write(id)) throw Trouble($"unable to write hold/{id}");
                OwnLike(QueueLayout.Hold(id), HoldMark.Directory);
                return $"message {id} is held";
            case QueueVerb.Release:
                if (!HoldMark.Remove(id)) throw Trouble($"unable to remove hold/{id}");
                QueueEdits.DueNow(id, now);
                return $"message {id} is released" + Later;
            case QueueVerb.Requeue:
                if (HoldMark.IsHeld(id)) throw new CliException($"message {id} is held: release it");
                if (!QueueEdits.DueNow(id, now)) throw Trouble($"unable to requeue {id}");
                return $"message {id} is due now" + Later;
            case QueueVerb.Delete when unprocessed:
                if (!QueueEdits.DeleteUnprocessed(id)) throw Trouble($"unable to delete {id}");
                HoldMark.Remove(id);
                return $"message {id} deleted";
            case QueueVerb.Bounce when unprocessed:
                throw new CliException($"message {id} is not preprocessed yet: start jsmail-send, then bounce it");
            default:
                var report = command.BounceReport();
                var vdoms = new ControlReader(_home).ReadMap("virtualdomains");
                var ended = QueueEdits.EndRecipients(id, command.Verb == QueueVerb.Bounce ? r => BounceText.Block(r, report, vdoms) : null);
                if (ended < 0 || !QueueEdits.DueNow(id, now)) throw Trouble($"unable to end the recipients of {id}");
                OwnLike(QueueLayout.Bounce(id), "bounce");
                HoldMark.Remove(id);
                return $"message {id}: {ended} recipient(s) {(command.Verb == QueueVerb.Delete ? "deleted" : "bounced")}" + Later;
        }
    }

    private static CliException Trouble(string what) => new($"{what}: {ErrorText.Describe(Libc.Errno)}");

    /// <summary>A file root made in a queue directory belongs to that directory's owner (qmails), who must read and remove it.</summary>
    private static void OwnLike(string path, string directory)
    {
        if (Libc.Geteuid() != 0 || Libc.StatPath(directory, out var d) != 0) return;
        if (Libc.Lstat(path, out _) == 0) Libc.Lchown(path, d.Uid, d.Gid);
    }

    public void Dispose() => Libc.Close(_mutex);
}
