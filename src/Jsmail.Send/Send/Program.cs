using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

/// <summary>
/// jsmail-send, qmail-send of the ext_todo design (interfaces §2, §2.16), started
/// by jsmail-start: fd 0 log, 1/2 local spawner, 3/4 remote spawner, 5/6
/// jsmail-clean, 7/8 jsmail-todo. Remote recipients at one domain go in one
/// delivery when the remote spawner announces grouped commands.
/// </summary>
public static class Program
{
    public static int Main()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Die("alert: cannot start: unable to switch to home directory"); }
        if (Libc.Chdir(home) != 0) return Die("alert: cannot start: unable to switch to home directory");
        SendControls controls;
        try { controls = SendControls.Read(new ControlReader(home), Compat.IsQmail); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException)
        { return Die("alert: cannot start: unable to read controls"); }
        if (Libc.Chdir("queue") != 0) return Die("alert: cannot start: unable to switch to queue directory");
        using var signals = new Signals();
        Libc.Umask(0x3F); // 077

        var mutex = Libc.Open(QueueLayout.SendMutex, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (mutex < 0) return Die("alert: cannot start: unable to open mutex");
        if (Libc.Flock(mutex, Libc.LOCK_EX | Libc.LOCK_NB) != 0) return Die("alert: cannot start: qmail-send is already running");

        var concurrency = new int[2];
        var groupLimit = new[] { 1, 1 };
        var early = new byte[2][];
        Span<byte> one = stackalloc byte[1];
        for (var c = 0; c < 2; c++)
        {
            if (Libc.Read(2 + 2 * c, one) != 1) return Die("alert: cannot start: hath the daemon spawn no fire?");
            concurrency[c] = Math.Min(controls.Concurrency[c], one[0]);
            early[c] = Waiting(2 + 2 * c);
            if (GroupedDelivery.ParseAnnouncement(early[c]) is not { } recipients) continue;
            early[c] = [];
            if (c == 1) groupLimit[c] = Math.Min(recipients, controls.RemoteRecipients); // grouping is for remote deliveries only
        }
        using var serving = ServeMetrics(home, concurrency, out var metrics);
        return new QueueManager(home, controls, concurrency, groupLimit, early, signals, metrics).Run();
    }

    /// <summary>
    /// The metrics endpoint of control/metrics (docs/metrics.md), if any. An
    /// address that cannot be had is logged and the queue runs on without
    /// metrics: deliveries matter more than their counts.
    /// </summary>
    private static IDisposable? ServeMetrics(string home, int[] concurrency, out SendMetrics? metrics)
    {
        metrics = null;
        System.Net.IPEndPoint? at;
        try { at = Common.Metrics.MetricsAddress.FromControl(new ControlReader(home), "metrics", Compat.IsQmail); }
        catch (Exception e) when (e is ControlReadException or Common.Metrics.MetricsAddressException)
        {
            ActivityLog.Line($"warning: no metrics: {e.Message}");
            return null;
        }
        if (at == null) return null;
        var m = new SendMetrics(concurrency);
        try
        {
            var responder = Common.Metrics.MetricsResponder.Start(at, m.Registry);
            ActivityLog.Line($"status: metrics on http://{responder.Endpoint}/metrics");
            metrics = m;
            return responder;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            ActivityLog.Line($"warning: no metrics: unable to listen on {at}: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// What the spawner wrote along with its slot byte: its announcement of
    /// grouped commands (docs/spawn-protocol.md), written in the same write, or
    /// nothing (qmail's spawners). Never waits.
    /// </summary>
    private static byte[] Waiting(int fd)
    {
        Span<Libc.PollFd> poll = [new Libc.PollFd { Fd = fd, Events = Libc.POLLIN }];
        if (Libc.Poll(poll, 0) <= 0 || (poll[0].Revents & Libc.POLLIN) == 0) return [];
        var buffer = new byte[4096];
        var n = Libc.Read(fd, buffer);
        return n > 0 ? buffer[..n] : [];
    }

    private static int Die(string line)
    {
        ActivityLog.Line(line);
        return 111;
    }
}
