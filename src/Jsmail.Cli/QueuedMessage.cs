using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>One recipient of a queued message: its channel and whether it is finished (D) or still to deliver (T).</summary>
public sealed record QueuedRecipient(byte[] Address, string Channel, bool Done);

/// <summary>
/// A message as its queue files show it (paths relative to queue/). State:
/// <c>todo</c> (not preprocessed yet), <c>held</c>, <c>deferred</c> (its next
/// attempt, the channel file's time, is in the future) or <c>active</c>
/// (due now or being delivered). While jsmail-send runs it keeps each
/// message's next attempt in memory and writes it to the file only at exit, so
/// <c>deferred</c> then means deferred by a previous run.
/// </summary>
public sealed class QueuedMessage
{
    public required ulong Id { get; init; }
    public required string State { get; init; }
    public required long Birth { get; init; }
    public required long Size { get; init; }
    public required byte[] Sender { get; init; }
    public required List<QueuedRecipient> Recipients { get; init; }
    public long? NextAttempt { get; init; }
    public bool Bouncing { get; init; }

    public static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    /// <summary>The message's files now, or null when it is gone or unreadable.</summary>
    public static QueuedMessage? Read(ulong id, long now)
    {
        if (Libc.StatPath(QueueLayout.Mess(id), out var mess) != 0) return null;
        if (ReadFile(QueueLayout.Info(id), out var info) is not { } infoStat)
        {
            if (Libc.StatPath(QueueLayout.Todo(id), out var todo) != 0) return null;
            var envelope = ReadFile(QueueLayout.Intd(id), out var intd) != null ? intd : [];
            var (sender, recipients) = FromEnvelope(envelope);
            return new QueuedMessage { Id = id, State = "todo", Birth = todo.MTimeSec, Size = mess.Size, Sender = sender, Recipients = recipients };
        }
        var list = new List<QueuedRecipient>();
        long? next = null;
        foreach (var (name, path) in new[] { ("local", QueueLayout.Local(id)), ("remote", QueueLayout.Remote(id)) })
        {
            if (ReadFile(path, out var records) is not { } st) continue;
            var pending = false;
            foreach (var r in Records(records))
                if (r.Length > 0 && r[0] is (byte)'T' or (byte)'D')
                {
                    list.Add(new QueuedRecipient(r[1..], name, r[0] == 'D'));
                    pending |= r[0] == 'T';
                }
            if (pending && (next == null || st.MTimeSec < next)) next = st.MTimeSec;
        }
        var nul = Array.IndexOf(info, (byte)0);
        byte[] from = info.Length > 0 && info[0] == 'F' && nul > 0 ? info[1..nul] : [];
        var state = HoldMark.IsHeld(id) ? "held" : next is { } t && t > now ? "deferred" : "active";
        return new QueuedMessage
        {
            Id = id, State = state, Birth = infoStat.MTimeSec, Size = mess.Size, Sender = from, Recipients = list,
            NextAttempt = next, Bouncing = Libc.StatPath(QueueLayout.Bounce(id), out _) == 0,
        };
    }

    /// <summary>The envelope parameters jsmail-queue kept in ext/, if any.</summary>
    public EnvelopeExtension? Extension()
    {
        if (ReadFile(QueueLayout.Ext(Id), out var block) == null) return null;
        try { return EnvelopeExtensionCodec.Decode(block); }
        catch (EnvelopeExtensionException) { return null; }
    }

    private static (byte[], List<QueuedRecipient>) FromEnvelope(byte[] envelope)
    {
        byte[] sender = [];
        var recipients = new List<QueuedRecipient>();
        foreach (var r in Records(envelope))
        {
            if (r.Length == 0) break;
            if (r[0] == 'F') sender = r[1..];
            else if (r[0] == 'T') recipients.Add(new QueuedRecipient(r[1..], "todo", false));
        }
        return (sender, recipients);
    }

    private static IEnumerable<byte[]> Records(byte[] content)
    {
        var pos = 0;
        while (pos < content.Length)
        {
            var nul = Array.IndexOf(content, (byte)0, pos);
            if (nul < 0) yield break;
            yield return content[pos..nul];
            pos = nul + 1;
        }
    }

    internal static Libc.Stat? ReadFile(string path, out byte[] content)
    {
        content = [];
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var owner = new OwnedFd(fd);
        if (Libc.Fstat(fd, out var st) != 0 || FdRead.AllOrNull(fd) is not { } bytes) return null;
        content = bytes;
        return st;
    }

    /// <summary>Every message of the queue: preprocessed ones (info/) and those still in todo/.</summary>
    public static IEnumerable<ulong> Ids()
    {
        var seen = new HashSet<ulong>();
        foreach (var dir in new[] { "info", "todo" })
            foreach (var path in EnumerateIds(dir))
                if (seen.Add(path)) yield return path;
    }

    private static IEnumerable<ulong> EnumerateIds(string dir)
    {
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(dir, "*", dir == "todo" ? SearchOption.TopDirectoryOnly : SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"unable to read queue/{dir}: {e.Message}"); }
        foreach (var f in files)
            if (ulong.TryParse(Path.GetFileName(f), System.Globalization.NumberStyles.None, null, out var id)) yield return id;
    }
}

/// <summary>A failure the command reports on stderr before exiting 111.</summary>
public sealed class CliException(string message, int exitCode = 111) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
