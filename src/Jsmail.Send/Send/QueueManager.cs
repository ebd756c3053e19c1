using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

/// <summary>
/// jsmail-send's driver around the <see cref="Scheduler"/> (interfaces
/// §2.3–§2.13) for the ext_todo design: one thread, one poll() over the
/// spawner, todo and signal descriptors. It turns what the descriptors and the
/// clock say into the scheduler's events and carries out the actions it
/// returns on the queue files. Runs in queue/.
/// </summary>
public sealed partial class QueueManager
{
    private const long SleepFuzz = 1;

    private readonly string _home;
    private readonly SendControls _controls;
    private readonly Scheduler _scheduler;
    private readonly SpawnerLink[] _spawners;
    private readonly CleanClient _clean = new(5, 6);
    private readonly TodoLink _todo;
    private readonly Signals _signals;
    private readonly OssifiedCleanup _cleanup;
    private readonly byte[][] _early;
    private readonly CommandChannel? _commands;
    private readonly SendMetrics? _metrics;

    /// <param name="groupLimit">recipients per delivery on each channel (1: qmail's one)</param>
    /// <param name="early">bytes each spawner wrote with its slot byte that were no announcement, read as results</param>
    /// <param name="metrics">null: no metrics (control/metrics absent, or JSMAIL_COMPAT=qmail)</param>
    public QueueManager(string home, SendControls controls, int[] concurrency, int[] groupLimit, byte[][] early, Signals signals,
        SendMetrics? metrics)
    {
        _home = home;
        _controls = controls;
        _signals = signals;
        _early = early;
        _scheduler = new Scheduler(concurrency, groupLimit, controls.Lifetime);
        _metrics = metrics;
        if (metrics != null) _scheduler.Reported = metrics.Reported;
        _spawners = [new SpawnerLink(1, 2), new SpawnerLink(3, 4)];
        _todo = new TodoLink(7, 8);
        _cleanup = new OssifiedCleanup(Foop);
        // qmail-send has no command channel and never looks at hold/
        _commands = Common.Control.Compat.IsQmail ? null : CommandChannel.Open();
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public int Run()
    {
        foreach (var c in Channels.Both)
            if (!_spawners[(int)c].MakeNonBlocking()) _scheduler.SpawnerLost(c);
        foreach (var c in Channels.Both) Results(c, _early[(int)c]);
        if (_commands != null) LoadHolds();
        foreach (var id in QueueScan.Ids("info")) ScanMessage(id);
        _scheduler.Status();
        Apply();
        _cleanup.Start(Now());
        _todo.Start();

        Span<Libc.PollFd> fds = stackalloc Libc.PollFd[7 + CommandChannel.PollSlots];
        while (!_scheduler.ExitAsap || !_scheduler.CanExit || _todo.Alive)
        {
            var recent = Now();
            if (_signals.TakeRunAsap()) _scheduler.Alarm(recent);
            if (_signals.TakeReadAsap()) _scheduler.Hangup();
            if (_signals.ExitRequested && !_scheduler.ExitAsap) _scheduler.Terminate();
            Apply();
            if (_scheduler.ExitAsap) _todo.RequestExit();

            foreach (var c in Channels.Both)
            {
                var s = _spawners[(int)c];
                var alive = _scheduler[c].SpawnAlive;
                fds[(int)c] = new Libc.PollFd { Fd = alive && s.Command != null ? s.FdOut : -1, Events = Libc.POLLOUT };
                fds[2 + (int)c] = new Libc.PollFd { Fd = alive ? s.FdIn : -1, Events = Libc.POLLIN };
            }
            var wakeup = Math.Min(_scheduler.Wakeup(recent), _cleanup.Wakeup);
            if (_unmarked.Count > 0) wakeup = Math.Min(wakeup, recent + 1);
            fds[4] = new Libc.PollFd { Fd = _todo.Alive ? _todo.FdIn : -1, Events = Libc.POLLIN };
            fds[5] = new Libc.PollFd { Fd = _todo.Alive && _todo.HasOutput ? _todo.FdOut : -1, Events = Libc.POLLOUT };
            fds[6] = new Libc.PollFd { Fd = _signals.WakeFd, Events = Libc.POLLIN };
            if (_commands != null) _commands.Fill(fds[7..]);
            else fds[7..].Fill(new Libc.PollFd { Fd = -1 });
            var seconds = wakeup <= recent ? 0 : Math.Min(wakeup - recent + SleepFuzz, Scheduler.SleepForever + SleepFuzz);
            if (Libc.Poll(fds, (int)(seconds * 1000)) < 0)
            {
                if (Libc.Errno != Errno.EINTR) ActivityLog.Line("warning: trouble in select");
                continue;
            }
            recent = Now();
            if ((fds[6].Revents & Libc.POLLIN) != 0) _signals.Drain();
            foreach (var c in Channels.Both)
                if ((fds[(int)c].Revents & (Libc.POLLOUT | Libc.POLLERR | Libc.POLLHUP)) != 0) WriteCommand(c);
            foreach (var c in Channels.Both)
                if ((fds[2 + (int)c].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0) ReadResults(c);
            if ((fds[5].Revents & (Libc.POLLOUT | Libc.POLLERR | Libc.POLLHUP)) != 0) _todo.Flush();
            if ((fds[4].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0) TodoDo();
            _commands?.Step(fds[7..], recent, Command);
            Apply();
            if (_unmarked.Count > 0) SettleMarks();
            _scheduler.Tick(recent);
            Apply();
            _cleanup.Step(recent);
            _metrics?.Schedule(_scheduler);
        }
        _scheduler.Finish();
        Apply();
        _commands?.Dispose();
        ActivityLog.Line("status: exiting");
        return 0;
    }

    /// <summary>
    /// Carries out the scheduler's actions in order. An action that asks a
    /// question is answered at once, and the actions the answer brings are
    /// carried out before the next one, as the transliterated loop did them.
    /// </summary>
    private void Apply()
    {
        if (_scheduler.Actions.Count == 0) return;
        foreach (var action in _scheduler.TakeActions())
        {
            Execute(action);
            Apply();
        }
    }

    private void Execute(SchedulerAction action)
    {
        switch (action)
        {
            case LogLine l:
                if (l.Tail == null) ActivityLog.Line(l.Text);
                else ActivityLog.Line(l.Text, l.Tail);
                break;
            case StartDelivery s:
                _spawners[(int)s.Channel].Queue(s);
                _metrics?.DeliveryStarted(s.Channel, s.Slot, s.Recipients.Length);
                break;
            case MarkDone m: MarkDone(m); break;
            case AppendBounce b: AddBounce(b.MessageId, b.Recipient, b.Report); break;
            case RecordSuccess r: RecordSuccess(r.MessageId, r.Channel, r.Recipient, r.Report); break;
            case WarnDelay w: WarnDelay(w.MessageId, w.Recipients); break;
            case OpenPass p: OpenPass(p.Channel, p.MessageId); break;
            case RemoveChannelFile r: RemoveChannelFile(r.Channel, r.MessageId); break;
            case CompleteMessage m: CompleteMessage(m.MessageId); break;
            case ScanMessage s: ScanMessage(s.MessageId); break;
            case RereadControls: Reread(); break;
            case EndMessage e: EndMessage(e.Command); break;
            case SetNextAttempt n:
                var path = Channels.PathOf(n.Channel, n.MessageId);
                if (Libc.Utime(path, n.Due) != 0)
                    ActivityLog.Line($"warning: unable to utime {path}; message will be retried too soon");
                break;
        }
    }

    private void Reread()
    {
        _todo.Send((byte)'H');
        var c = new ControlReader(_home);
        if (!Directory.Exists(_home))
        {
            ActivityLog.Line("alert: unable to reread controls: unable to switch to home directory");
            return;
        }
        ControlSet locals;
        try { locals = new ControlSet(c.ReadLocals()); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException)
        { ActivityLog.Line("alert: unable to reread control/locals"); return; }
        ControlMap vdoms;
        try { vdoms = c.ReadMap("virtualdomains"); }
        catch (ControlReadException) { ActivityLog.Line("alert: unable to reread control/virtualdomains"); return; }
        _controls.Locals = locals;
        _controls.VirtualDomains = vdoms;
    }

    private void TodoDo()
    {
        foreach (var record in _todo.Read())
        {
            switch (record.Kind)
            {
                case TodoRecordKind.Log: ActivityLog.Write(record.Text); break;
                case TodoRecordKind.Done:
                    if (record.Code != (byte)'X') _scheduler.Prioritize(record.Id, ReadPriority(record.Id));
                    _scheduler.TodoDone(record.Code, record.Id, Now());
                    break;
                case TodoRecordKind.Mangled: ActivityLog.Line("warning: qmail-send unable to understand qmail-todo: report mangled"); break;
                case TodoRecordKind.Unknown: ActivityLog.Line("warning: qmail-send unable to understand qmail-todo"); break;
            }
        }
        if (_todo.Lost) _scheduler.TodoLost();
    }

    private void Foop(ulong id)
    {
        var reply = _clean.Remove("foop", id);
        if (reply == null) { _scheduler.CleanLost(); Apply(); return; }
        if (reply != (byte)'+') ActivityLog.Line($"warning: qmail-clean unable to clean up foop/{id}");
    }
}
