using System.Text;

namespace Jsmail.Common.Queue;

/// <summary>What the operator asks of the queue (docs/jsmail.md).</summary>
public enum QueueVerb { Hold, Release, Requeue, Flush, Delete, Bounce, Pending }

/// <summary>
/// One request on jsmail-send's command socket: a verb, a message id (not for
/// flush and pending) and, for bounce, a reason. <c>pending</c> changes
/// nothing: the reply is <c>ok N</c>, the deliveries due now or under way.
/// </summary>
public sealed record QueueCommand(QueueVerb Verb, ulong Id, string Reason = "")
{
    public const int MaxRequest = 1024;

    /// <summary>
    /// One line: <c>hold 1234\n</c>, <c>flush\n</c>, <c>bounce 1234 the reason\n</c>.
    /// The reply is one line too: <c>ok ...\n</c> or <c>error ...\n</c>.
    /// </summary>
    public byte[] Encode()
    {
        var verb = Verb.ToString().ToLowerInvariant();
        var line = Verb switch
        {
            QueueVerb.Flush or QueueVerb.Pending => verb,
            QueueVerb.Bounce => $"{verb} {Id} {Clean(Reason)}",
            _ => $"{verb} {Id}",
        };
        return Encoding.UTF8.GetBytes(line + "\n");
    }

    private static string Clean(string reason) => new(reason.Select(ch => char.IsControl(ch) ? ' ' : ch).ToArray());

    /// <summary>The request of one line (without its newline), or null if it is not one.</summary>
    public static QueueCommand? Parse(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        var words = text.Split(' ', 3);
        if (!Enum.TryParse<QueueVerb>(words[0], ignoreCase: true, out var verb) || words[0] != words[0].ToLowerInvariant()) return null;
        if (verb is QueueVerb.Flush or QueueVerb.Pending) return words.Length == 1 ? new QueueCommand(verb, 0) : null;
        if (words.Length < 2 || !ulong.TryParse(words[1], System.Globalization.NumberStyles.None, null, out var id)) return null;
        if (verb == QueueVerb.Bounce) return new QueueCommand(verb, id, words.Length == 3 ? words[2] : "");
        return words.Length == 2 ? new QueueCommand(verb, id) : null;
    }

    /// <summary>The failure text a bounce by the operator gives each recipient.</summary>
    public byte[] BounceReport() =>
        Encoding.UTF8.GetBytes((Reason.Length > 0 ? Reason : "Bounced by the postmaster.") + " (#5.0.0)\n");
}
