using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>
/// <c>jsmail status</c>: whether the queue manager runs (lock/sendmutex is
/// held), the long-running services' supervise state where daemontools keeps
/// it (service/*/supervise/status under the home or /service), and the queue's
/// messages by state and by age. Runs in queue/.
/// </summary>
public static class StatusReport
{
    private static readonly (string Name, long Seconds)[] Ages = [("< 5m", 300), ("< 1h", 3600), ("< 1d", 86400), (">= 1d", long.MaxValue)];

    public static void Write(TextWriter o, string home, long now)
    {
        o.WriteLine($"qmail-send: {(SendRuns() ? "running" : "stopped")}{(SendRuns() && Libc.StatPath(QueueLayout.CommandSocket, out _) == 0 ? " (command channel open)" : "")}");
        foreach (var (name, state) in Services(home)) o.WriteLine($"service {name}: {state}");
        var byState = QueueFilter.States.ToDictionary(s => s, _ => 0);
        var byAge = new long[Ages.Length];
        var total = 0;
        foreach (var id in QueuedMessage.Ids())
        {
            if (QueuedMessage.Read(id, now) is not { } m) continue;
            total++;
            byState[m.State]++;
            var age = now - m.Birth;
            byAge[Array.FindIndex(Ages, a => age < a.Seconds)]++;
        }
        o.WriteLine($"messages: {total}");
        foreach (var (s, n) in byState) o.WriteLine($"  {s}: {n}");
        o.WriteLine("by age:");
        for (var i = 0; i < Ages.Length; i++) o.WriteLine($"  {Ages[i].Name}: {byAge[i]}");
    }

    /// <summary>True when someone holds lock/sendmutex (a queue manager runs); a lock we get is released at once.</summary>
    public static bool SendRuns()
    {
        var fd = Libc.Open(QueueLayout.SendMutex, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return false;
        using var owner = new OwnedFd(fd);
        return Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0 && Libc.Errno == Errno.EWOULDBLOCK;
    }

    /// <summary>daemontools' supervise/status: byte 12..15 the pid (little-endian), 0 when the service is down.</summary>
    private static IEnumerable<(string, string)> Services(string home)
    {
        foreach (var root in new[] { Path.Combine(home, "service"), "/service", "/etc/service" })
        {
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.EnumerateDirectories(root).Order())
            {
                var status = Path.Combine(dir, "supervise", "status");
                byte[] b;
                try { b = File.ReadAllBytes(status); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                if (b.Length < 18) continue;
                var pid = BitConverter.ToInt32(b, 12);
                yield return (Path.GetFileName(dir), pid != 0 ? $"up (pid {pid})" : "down");
            }
            yield break;
        }
    }
}
