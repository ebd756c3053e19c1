using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Send;

/// <summary>
/// The message entries of a queue directory with their modification times,
/// for the metrics' census: unlike <see cref="QueueScan"/> it never waits, an
/// unreadable directory or a file gone meanwhile is skipped.
/// </summary>
public static class QueueCensus
{
    public static IEnumerable<(ulong Id, long MTime)> Entries(string dir, bool split)
    {
        var dirs = split ? Enumerable.Range(0, (int)QueueLayout.Split).Select(s => $"{dir}/{s}") : [dir];
        foreach (var d in dirs)
        {
            List<string> names;
            try { names = Directory.EnumerateFileSystemEntries(d).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var path in names)
            {
                if (!ulong.TryParse(Path.GetFileName(path), System.Globalization.NumberStyles.None, null, out var id)) continue;
                if (Libc.StatPath(path, out var st) == 0) yield return (id, st.MTimeSec);
            }
        }
    }
}
