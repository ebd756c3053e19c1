namespace Jsmail.Common.Remote;

/// <summary>
/// The peer's LIMITS (RFC 9422), while <see cref="RemoteFeatures.Limits"/> is on.
/// RCPTMAX: a delivery with more recipients goes as several transactions on
/// the session, RCPTMAX recipients each, in order (RSET between them).
/// MAILMAX: no session starts more transactions than that, split ones
/// included; the recipients of a split delivery that the session has no
/// transaction left for are deferred ('s'), and the queue tries them again.
/// The report keeps qmail-remote's shape, one r/s/h record per recipient in
/// argument order and one K/Z/D message record, each recipient's record
/// telling its own transaction's outcome (<see cref="Split"/>).
/// </summary>
public sealed partial class Dialogue
{
    private PeerLimits _limits = PeerLimits.None;

    /// <summary>Whether this session may start another transaction (MAILMAX).</summary>
    public bool MayStartAnother => _limits.MailMax == 0 || Transactions < _limits.MailMax;

    /// <summary>Whether this session has transactions left for a whole delivery to <paramref name="recipients"/> recipients.</summary>
    public bool HasRoomFor(int recipients) =>
        _limits.MailMax == 0 || Transactions + Batches(recipients).Count <= _limits.MailMax;

    /// <summary>(first recipient, count) of each transaction: one, unless RCPTMAX is smaller than the recipients.</summary>
    private List<(int First, int Count)> Batches(int recipients)
    {
        var size = _limits.RcptMax > 0 ? _limits.RcptMax : Math.Max(recipients, 1);
        var batches = new List<(int, int)>();
        for (var first = 0; first == 0 || first < recipients; first += size)
            batches.Add((first, Math.Min(size, Math.Max(recipients - first, 0))));
        return batches;
    }

    /// <summary>
    /// The transactions of a split delivery, each reported apart, then merged
    /// into <paramref name="into"/>. The message record is the first
    /// accepted transaction's K, or with none accepted the first failure's.
    /// A recipient keeps its own record when the message record speaks for
    /// it (its transaction was accepted, or is the one whose failure is the
    /// message record); a recipient its transaction accepted ('r', or no
    /// record: a refused MAIL) in a transaction that then failed gets that
    /// failure as its own record, 's' (temporary) or 'h' (permanent); one
    /// whose transaction never ran gets 's' saying why.
    /// </summary>
    private TransactionEnd Split(Report into, Outgoing o, List<(int First, int Count)> batches, bool keepOpen)
    {
        var parts = new List<(Report? Part, string? NotRun)>();
        var end = TransactionEnd.Reusable;
        for (var b = 0; b < batches.Count; b++)
        {
            if (!MayStartAnother)
            {
                parts.Add((null, $"Connected to {ip} but its LIMITS MAILMAX={_limits.MailMax} left no transaction on this session for this recipient. (#4.5.3)\n"));
                continue;
            }
            if (end != TransactionEnd.Reusable)
            {
                parts.Add((null, SessionEnded));
                continue;
            }
            var last = b == batches.Count - 1 || (_limits.MailMax > 0 && Transactions + 1 >= _limits.MailMax);
            var part = report = new Report();
            end = OneTransaction(o, batches[b].First, batches[b].Count, last ? keepOpen : true, more: !last, mayBeStale: b == 0);
            if (end == TransactionEnd.Stale)
            {
                report = into;
                return end;
            }
            parts.Add(part.Records.Count == 0 ? (null, SessionEnded) : (part, null));
        }
        report = into;
        Merge(into, batches, parts);
        return end;
    }

    private string SessionEnded => $"Connected to {ip} but the session ended before this recipient's transaction. (#4.4.2)\n";

    private static void Merge(Report into, List<(int First, int Count)> batches, List<(Report? Part, string? NotRun)> parts)
    {
        var messages = parts.Select(p => p.Part?.Records[^1]).ToList();
        var chosen = messages.FindIndex(m => m?.Letter == 'K');
        if (chosen < 0) chosen = messages.FindIndex(m => m != null);
        for (var b = 0; b < batches.Count; b++)
        {
            var (part, notRun) = parts[b];
            if (part == null)
            {
                for (var i = 0; i < batches[b].Count; i++) into.Add('s', notRun!);
                continue;
            }
            var records = part.Records;
            var message = records[^1];
            for (var i = 0; i < batches[b].Count; i++)
            {
                var own = i < records.Count - 1 ? records[i] : ('r', []);
                if (own.Letter == 'r' && message.Letter != 'K' && b != chosen)
                    into.Add(message.Letter == 'D' ? 'h' : 's', message.Text);
                else
                    into.Add(own.Letter, own.Text);
            }
        }
        if (chosen >= 0) into.Add(messages[chosen]!.Value.Letter, messages[chosen]!.Value.Text);
    }
}
