namespace Jsmail.Cli;

/// <summary>
/// <c>jsmail queue flush</c> on a terminal: a bar that fills while jsmail-send
/// drains what the flush made due (asked with <c>pending</c> a few times a
/// second), redrawn in place. Ends when nothing is left, when jsmail-send
/// cannot say, or after <see cref="MaxSeconds"/> (the flush goes on; only the
/// watching stops).
/// </summary>
public static class FlushProgress
{
    private const int Width = 30, MaxSeconds = 600, IntervalMs = 250;

    public static void Show(TextWriter o, QueueChanger changer)
    {
        var total = 0;
        for (var turn = 0; turn < MaxSeconds * 1000 / IntervalMs; turn++)
        {
            if (changer.Pending() is not { } left) break;
            total = Math.Max(total, left);
            o.Write("\r" + Bar(total - left, total));
            o.Flush();
            if (left == 0) break;
            Thread.Sleep(IntervalMs);
        }
        o.WriteLine();
    }

    public static string Bar(int done, int total)
    {
        var filled = total == 0 ? Width : done * Width / total;
        return $"flushing [{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total}";
    }
}
