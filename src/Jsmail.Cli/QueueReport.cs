using System.Text;
using System.Text.Json;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>What <c>queue list</c> and <c>queue show</c> print: text for people, JSON (written by hand with Utf8JsonWriter: no reflection under Native AOT) for programs.</summary>
public static class QueueReport
{
    public static string Time(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss 'UTC'");

    public static void ListText(TextWriter o, IReadOnlyList<QueuedMessage> messages)
    {
        foreach (var m in messages)
        {
            o.WriteLine($"{m.Id}  {m.State,-8}  {Time(m.Birth)}  {m.Size} bytes  <{QueuedMessage.Text(m.Sender)}>{(m.Bouncing ? "  bouncing" : "")}");
            foreach (var r in m.Recipients)
                o.WriteLine($"    {(r.Done ? "done" : "todo")} {r.Channel,-6} <{QueuedMessage.Text(r.Address)}>");
        }
        o.WriteLine($"{messages.Count} message(s)");
    }

    public static void ListJson(Stream o, IReadOnlyList<QueuedMessage> messages)
    {
        using var w = new Utf8JsonWriter(o, new JsonWriterOptions { Indented = true });
        w.WriteStartArray();
        foreach (var m in messages) Message(w, m);
        w.WriteEndArray();
        w.Flush();
        o.Write("\n"u8);
    }

    private static void Message(Utf8JsonWriter w, QueuedMessage m)
    {
        w.WriteStartObject();
        w.WriteString("id", m.Id.ToString());
        w.WriteString("state", m.State);
        w.WriteNumber("birth", m.Birth);
        w.WriteNumber("size", m.Size);
        w.WriteString("sender", QueuedMessage.Text(m.Sender));
        if (m.NextAttempt is { } next) w.WriteNumber("next_attempt", next);
        else w.WriteNull("next_attempt");
        w.WriteBoolean("bouncing", m.Bouncing);
        w.WriteStartArray("recipients");
        foreach (var r in m.Recipients)
        {
            w.WriteStartObject();
            w.WriteString("address", QueuedMessage.Text(r.Address));
            w.WriteString("channel", r.Channel);
            w.WriteBoolean("done", r.Done);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>queue show: the envelope with its ESMTP parameters, each recipient's state, the next attempt, then the message itself.</summary>
    public static void Show(Stream o, QueuedMessage m, long now)
    {
        var t = new StringBuilder();
        t.Append($"Message: {m.Id}\nState: {m.State}{(m.Bouncing ? " (bounce pending)" : "")}\nQueued: {Time(m.Birth)}\nSize: {m.Size}\n");
        t.Append($"Next attempt: {(m.NextAttempt is { } n ? (n <= now ? "now" : Time(n)) : "none")}\n");
        var ext = m.Extension();
        t.Append($"Sender: <{QueuedMessage.Text(m.Sender)}>{Parameters(ext?.Sender)}\n");
        for (var i = 0; i < m.Recipients.Count; i++)
        {
            var r = m.Recipients[i];
            t.Append($"Recipient: <{QueuedMessage.Text(r.Address)}> {r.Channel} {(r.Done ? "done" : "pending")}\n");
        }
        if (ext != null)
            foreach (var (index, list) in ext.Recipients)
                if (list.Count > 0) t.Append($"Recipient {index} parameters:{Parameters(list)}\n");
        t.Append('\n');
        o.Write(Encoding.UTF8.GetBytes(t.ToString()));
        var fd = Libc.Open(QueueLayout.Mess(m.Id), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw new CliException($"unable to open mess/{m.Id}: {ErrorText.Describe(Libc.Errno)}");
        using var owner = new OwnedFd(fd);
        o.Write(FdRead.All(fd));
    }

    private static string Parameters(IEnumerable<Jsmail.Common.Envelope.EsmtpParameter>? list) =>
        list == null ? "" : string.Concat(list.Select(p => p.Value == null ? $" {p.Keyword}" : $" {p.Keyword}={p.ValueText}"));
}
