using Jsmail.Common.Queue;

namespace Jsmail.Send.Send;

/// <summary>The message ids in a split queue directory.</summary>
public static class QueueScan
{
    /// <summary>Numeric entries of the split directories under <paramref name="dir"/>, 0..22 in turn; waits out an unreadable one, as qmail does.</summary>
    public static IEnumerable<ulong> Ids(string dir)
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
}
