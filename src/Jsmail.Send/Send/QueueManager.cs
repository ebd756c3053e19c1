using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

/// <summary>
/// qmail-send's scheduler (interfaces §2.3–§2.13) for the ext_todo design:
/// one thread, one poll() over the spawner, todo and signal descriptors. New
/// messages arrive preprocessed from jsmail-todo; this class runs passes over
/// channel files, dispatches deliveries, reads results, bounces and completes
/// messages. Runs in queue/.
/// </summary>
public sealed partial class QueueManager
{
    private const long SleepForever = 86400, SleepFuzz = 1, SleepCleanup = 76431, SleepSysfail = 123, Ossified = 129600;

    private readonly string _home;
    private readonly SendControls _controls;
    private readonly ChannelState[] _channels;
    private readonly CleanClient _clean = new(5, 6);
    private readonly TodoLink _todo;
    private readonly Signals _signals;
    private readonly PriorityQueue<ulong, long> _done = new(), _fail = new();
    private readonly int _numJobs;
    private int _openJobs;
    private ulong _masterDeliveryId = 1;
    private long _recent;
    private bool _exitAsap;
    private long _cleanupTime;
    private IEnumerator<ulong>? _cleanupScan;

    private readonly byte[][] _early;

    /// <param name="groupLimit">recipients per delivery on each channel (1: qmail's one)</param>
    /// <param name="early">bytes each spawner wrote with its slot byte that were no announcement, read as results</param>
    public QueueManager(string home, SendControls controls, int[] concurrency, int[] groupLimit, byte[][] early, Signals signals)
    {
        _home = home;
        _controls = controls;
        _signals = signals;
        _early = early;
        _channels = [new ChannelState(0, 1, 2, concurrency[0], groupLimit[0]), new ChannelState(1, 3, 4, concurrency[1], groupLimit[1])];
        _numJobs = concurrency[0] + concurrency[1];
        _todo = new TodoLink(7, 8);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public int Run()
    {
        foreach (var c in _channels)
            if (Libc.Fcntl(c.FdOut, Libc.F_SETFL, Libc.Fcntl(c.FdOut, Libc.F_GETFL, 0) | Libc.O_NONBLOCK) < 0) SpawnDied(c);
        foreach (var c in _channels) Results(c, _early[c.Index]);
        ScanInfo();
        Status();
        _cleanupTime = Now();
        _todo.Start();

        Span<Libc.PollFd> fds = stackalloc Libc.PollFd[7];
        while (!_exitAsap || !CanExit() || _todo.Alive)
        {
            _recent = Now();
            if (_signals.TakeRunAsap()) RunAsap();
            if (_signals.TakeReadAsap()) Reread();
            if (_signals.ExitRequested && !_exitAsap) _exitAsap = true;
            if (_exitAsap) _todo.RequestExit();

            var wakeup = _recent + SleepForever;
            for (var c = 0; c < 2; c++)
            {
                var ch = _channels[c];
                fds[c] = new Libc.PollFd { Fd = ch.SpawnAlive && ch.Command != null ? ch.FdOut : -1, Events = Libc.POLLOUT };
                fds[2 + c] = new Libc.PollFd { Fd = ch.SpawnAlive ? ch.FdIn : -1, Events = Libc.POLLIN };
            }
            PassSelprep(ref wakeup);
            CleanupSelprep(ref wakeup);
            fds[4] = new Libc.PollFd { Fd = _todo.Alive ? _todo.FdIn : -1, Events = Libc.POLLIN };
            fds[5] = new Libc.PollFd { Fd = _todo.Alive && _todo.HasOutput ? _todo.FdOut : -1, Events = Libc.POLLOUT };
            fds[6] = new Libc.PollFd { Fd = _signals.WakeFd, Events = Libc.POLLIN };
            var seconds = wakeup <= _recent ? 0 : Math.Min(wakeup - _recent + SleepFuzz, SleepForever + SleepFuzz);
            if (Libc.Poll(fds, (int)(seconds * 1000)) < 0)
            {
                if (Libc.Errno != Errno.EINTR) ActivityLog.Line("warning: trouble in select");
                continue;
            }
            _recent = Now();
            if ((fds[6].Revents & Libc.POLLIN) != 0) _signals.Drain();
            for (var c = 0; c < 2; c++)
                if ((fds[c].Revents & (Libc.POLLOUT | Libc.POLLERR | Libc.POLLHUP)) != 0) CommDo(_channels[c]);
            for (var c = 0; c < 2; c++)
                if ((fds[2 + c].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0) DelDo(_channels[c]);
            if ((fds[5].Revents & (Libc.POLLOUT | Libc.POLLERR | Libc.POLLHUP)) != 0) _todo.Flush();
            if ((fds[4].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0) TodoDo();
            PassDo();
            CleanupDo();
        }
        Finish();
        ActivityLog.Line("status: exiting");
        return 0;
    }

    // ------------------------------------------------------------ status and signals

    private void Status()
    {
        var s = $"status: local {_channels[0].Used}/{_channels[0].Concurrency} remote {_channels[1].Used}/{_channels[1].Concurrency}";
        ActivityLog.Line(_exitAsap ? s + " exitasap" : s);
    }

    private bool CanExit() => _channels.All(c => !c.SpawnAlive || c.Used == 0);

    private void SpawnDied(ChannelState c)
    {
        ActivityLog.Line("alert: oh no! lost spawn connection! dying...");
        c.SpawnAlive = false;
        _exitAsap = true;
    }

    private void CleanDied()
    {
        ActivityLog.Line("alert: oh no! lost qmail-clean connection! dying...");
        _exitAsap = true;
    }

    private void RunAsap()
    {
        foreach (var c in _channels)
        {
            var ids = new List<ulong>();
            while (c.Due.TryDequeue(out var id, out _)) ids.Add(id);
            foreach (var id in ids) c.Due.Enqueue(id, _recent);
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

    /// <summary>At exit: each scheduled channel file's next attempt becomes its atime and mtime.</summary>
    private void Finish()
    {
        foreach (var c in _channels)
            while (c.Due.TryDequeue(out var id, out var due))
            {
                var path = ChannelPath(c.Index, id);
                if (Libc.Utime(path, due) != 0)
                    ActivityLog.Line($"warning: unable to utime {path}; message will be retried too soon");
            }
    }

    private static string ChannelPath(int channel, ulong id) => channel == 0 ? QueueLayout.Local(id) : QueueLayout.Remote(id);

    // ------------------------------------------------------------ schedule (startup)

    private void ScanInfo()
    {
        foreach (var id in SplitIds("info")) Add(id);
    }

    /// <summary>Numeric entries of the split directories under <paramref name="dir"/>, 0..22 in turn.</summary>
    private static IEnumerable<ulong> SplitIds(string dir)
    {
        for (var s = 0; s < QueueLayout.Split; s++)
        {
            List<string> names;
            while (true)
            {
                try { names = Directory.EnumerateFileSystemEntries($"{dir}/{s}").Select(p => Path.GetFileName(p)).ToList(); break; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    ActivityLog.Line($"alert: unable to opendir {dir}/{s}, sleeping...");
                    Thread.Sleep(10_000);
                }
            }
            foreach (var n in names)
                if (ulong.TryParse(n, System.Globalization.NumberStyles.None, null, out var id)) yield return id;
        }
    }

    /// <summary>qmail's pqadd: schedules a preprocessed message from what is on disk.</summary>
    private void Add(ulong id)
    {
        var path = QueueLayout.Info(id);
        if (Libc.StatPath(path, out _) != 0) { if (Libc.Errno != Errno.ENOENT) goto fail; return; }
        path = QueueLayout.Todo(id);
        if (Libc.StatPath(path, out _) == 0) return; // jsmail-todo will redo it
        if (Libc.Errno != Errno.ENOENT) goto fail;
        var due = new long?[2];
        for (var c = 0; c < 2; c++)
        {
            path = ChannelPath(c, id);
            if (Libc.StatPath(path, out var st) == 0) due[c] = st.MTimeSec;
            else if (Libc.Errno != Errno.ENOENT) goto fail;
        }
        for (var c = 0; c < 2; c++) if (due[c] is { } d) _channels[c].Due.Enqueue(id, d);
        if (due[0] == null && due[1] == null) _done.Enqueue(id, Now());
        return;
    fail:
        ActivityLog.Line($"warning: unable to stat {path}; will try again later");
        _fail.Enqueue(id, Now() + SleepSysfail);
    }

    // ------------------------------------------------------------ jsmail-todo

    private void TodoDo()
    {
        foreach (var record in _todo.Read())
        {
            switch (record.Kind)
            {
                case TodoRecordKind.Log: ActivityLog.Write(record.Text); break;
                case TodoRecordKind.Done:
                    if (_exitAsap) break;
                    var now = Now();
                    if (record.Code is (byte)'L' or (byte)'B') _channels[0].Due.Enqueue(record.Id, now);
                    if (record.Code is (byte)'R' or (byte)'B') _channels[1].Due.Enqueue(record.Id, now);
                    if (record.Code == (byte)'X') _done.Enqueue(record.Id, now);
                    break;
                case TodoRecordKind.Mangled: ActivityLog.Line("warning: qmail-send unable to understand qmail-todo: report mangled"); break;
                case TodoRecordKind.Unknown: ActivityLog.Line("warning: qmail-send unable to understand qmail-todo"); break;
            }
        }
        if (_todo.Lost && !_exitAsap)
        {
            ActivityLog.Line("alert: oh no! lost qmail-todo connection! dying...");
            _exitAsap = true;
        }
    }

    // ------------------------------------------------------------ cleanup of ossified messages

    private void CleanupSelprep(ref long wakeup)
    {
        if (_cleanupScan != null) wakeup = 0;
        if (wakeup > _cleanupTime) wakeup = _cleanupTime;
    }

    private void CleanupDo()
    {
        if (_cleanupScan == null)
        {
            if (_recent < _cleanupTime) return;
            _cleanupScan = SplitIds("mess").GetEnumerator();
        }
        if (!_cleanupScan.MoveNext())
        {
            _cleanupScan.Dispose();
            _cleanupScan = null;
            _cleanupTime = _recent + SleepCleanup;
            return;
        }
        var id = _cleanupScan.Current;
        if (Libc.StatPath(QueueLayout.Mess(id), out var st) != 0) return;
        if (_recent <= st.ATimeSec + Ossified) return;
        if (Libc.StatPath(QueueLayout.Info(id), out _) == 0 || Libc.Errno != Errno.ENOENT) return;
        if (Libc.StatPath(QueueLayout.Todo(id), out _) == 0 || Libc.Errno != Errno.ENOENT) return;
        Foop(id);
    }

    private void Foop(ulong id)
    {
        var reply = _clean.Remove("foop", id);
        if (reply == null) { CleanDied(); return; }
        if (reply != (byte)'+') ActivityLog.Line($"warning: qmail-clean unable to clean up foop/{id}");
    }
}
