using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Send;

/// <summary>
/// qmail-send's cleanup of ossified messages (interfaces §2.12): every
/// 76431 s, one mess/ entry a loop turn, a message file unread for 36 hours
/// with neither info nor todo is handed to jsmail-clean.
/// </summary>
public sealed class OssifiedCleanup(Action<ulong> foop)
{
    private const long SleepCleanup = 76431, Ossified = 129600;

    private long _next;
    private IEnumerator<ulong>? _scan;

    /// <summary>When the loop must turn next for the cleanup: at once while a scan is under way.</summary>
    public long Wakeup => _scan != null ? 0 : _next;

    public void Start(long now) => _next = now;

    public void Step(long now)
    {
        if (_scan == null)
        {
            if (now < _next) return;
            _scan = QueueScan.Ids("mess").GetEnumerator();
        }
        if (!_scan.MoveNext())
        {
            _scan.Dispose();
            _scan = null;
            _next = now + SleepCleanup;
            return;
        }
        var id = _scan.Current;
        if (Libc.StatPath(QueueLayout.Mess(id), out var st) != 0) return;
        if (now <= st.ATimeSec + Ossified) return;
        if (Libc.StatPath(QueueLayout.Info(id), out _) == 0 || Libc.Errno != Errno.ENOENT) return;
        if (Libc.StatPath(QueueLayout.Todo(id), out _) == 0 || Libc.Errno != Errno.ENOENT) return;
        foop(id);
    }
}
