using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Send;

/// <summary>The operator's requests from the command socket (docs/jsmail.md), handed to the scheduler as events.</summary>
public sealed partial class QueueManager
{
    /// <summary>Held marks found at start: valid ones park their message, stale ones (a reused inode's) go.</summary>
    private void LoadHolds()
    {
        foreach (var id in HoldMark.Ids())
        {
            if (HoldMark.IsHeld(id)) _scheduler.Hold(id);
            else HoldMark.Remove(id);
        }
    }

    /// <summary>One request; the reply line for the jsmail command.</summary>
    private string Command(QueueCommand command, uint uid)
    {
        var id = command.Id;
        if (command.Verb == QueueVerb.Pending) return $"ok {_scheduler.PendingNow(Now())}"; // a question: not logged
        var verb = command.Verb.ToString().ToLowerInvariant();
        if (command.Verb != QueueVerb.Flush && Libc.StatPath(QueueLayout.Mess(id), out _) != 0)
            return $"error no message {id} in the queue";
        string reply;
        switch (command.Verb)
        {
            case QueueVerb.Flush:
                _scheduler.Flush(Now());
                reply = "ok every queued message is due now";
                break;
            case QueueVerb.Requeue:
                if (_scheduler.IsHeld(id)) return $"error message {id} is held: release it";
                reply = _scheduler.Requeue(id, Now()) ? $"ok message {id} is due now" : $"ok message {id} is being delivered or preprocessed: nothing to requeue";
                break;
            case QueueVerb.Hold:
                if (!HoldMark.Write(id)) return $"error unable to write hold/{id}: {ErrorText.Describe(Libc.Errno)}";
                _scheduler.Hold(id);
                reply = $"ok message {id} is held";
                break;
            case QueueVerb.Release:
                if (!HoldMark.Remove(id)) return $"error unable to remove hold/{id}: {ErrorText.Describe(Libc.Errno)}";
                _scheduler.Release(id);
                reply = $"ok message {id} is released";
                break;
            default: // delete, bounce
                if (!HoldMark.Remove(id)) return $"error unable to remove hold/{id}: {ErrorText.Describe(Libc.Errno)}";
                _scheduler.Remove(command, preprocessed: Libc.StatPath(QueueLayout.Todo(id), out _) != 0);
                reply = command.Verb == QueueVerb.Delete ? $"ok message {id} will be deleted" : $"ok message {id} will be bounced";
                break;
        }
        ActivityLog.Line(command.Verb == QueueVerb.Flush ? $"operator: flush by uid {uid}" : $"operator: {verb} msg {id} by uid {uid}");
        return reply;
    }

    /// <summary>The scheduler's <see cref="Scheduling.EndMessage"/>: every pending record ended, then due now so the next pass completes it.</summary>
    private void EndMessage(QueueCommand command)
    {
        var id = command.Id;
        var report = command.BounceReport();
        var ended = QueueEdits.EndRecipients(id, command.Verb == QueueVerb.Bounce
            ? recipient => BounceText.Block(recipient, report, _controls.VirtualDomains)
            : null);
        var ok = ended >= 0 && QueueEdits.DueNow(id, Now());
        if (ok) ActivityLog.Line($"operator: {(command.Verb == QueueVerb.Delete ? "deleted" : "bounced")} {ended} recipient(s) of msg {id}");
        else ActivityLog.Line($"warning: trouble ending msg {id}: {ErrorText.Describe(Libc.Errno)}; will try again later");
        _scheduler.MessageEnded(id, ok, Now());
    }
}
