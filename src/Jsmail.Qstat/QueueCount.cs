namespace Jsmail.Qstat;

/// <summary>
/// The two numbers of qmail-qstat, counted as its shell script counts them
/// with <c>find | wc -w</c>: every path below each entry of queue/mess (the
/// split directories themselves not counted), and every path below
/// queue/todo — or below each entry of queue/todo when it is split
/// (big-todo's todo/0). queue/intd is not counted: a message being queued has
/// its mess file already, and qmail-qstat never looked there.
/// </summary>
public sealed class QueueCount(string queue)
{
    /// <summary>Directories that could not be read, for a warning: find(1) reports them and counts on.</summary>
    public List<(string Path, Exception Error)> Unreadable { get; } = [];

    public long Messages() => BelowEachEntry(Path.Combine(queue, "mess"));

    public long Unprocessed()
    {
        var todo = Path.Combine(queue, "todo");
        return Directory.Exists(Path.Combine(todo, "0")) ? BelowEachEntry(todo) : Below(todo);
    }

    private long BelowEachEntry(string dir)
    {
        long n = 0;
        foreach (var entry in Entries(dir)) n += Below(entry);
        return n;
    }

    /// <summary>Paths find(1) prints below <paramref name="dir"/> (0 for a file), not following symbolic links.</summary>
    private long Below(string dir)
    {
        if (!IsRealDirectory(dir)) return 0;
        long n = 0;
        foreach (var entry in Entries(dir)) n += 1 + Below(entry);
        return n;
    }

    private List<string> Entries(string dir)
    {
        try { return Directory.EnumerateFileSystemEntries(dir).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Unreadable.Add((dir, e));
            return [];
        }
    }

    private static bool IsRealDirectory(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Attributes.HasFlag(FileAttributes.Directory) && info.LinkTarget == null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
