using Jsmail.TestSupport;

namespace Jsmail.Faults.Tests;

/// <summary>
/// What a fault left, judged by qmail's rules: every message that got its 250
/// delivered where its kind says (or bounced), nothing lost, nothing cut, a
/// second copy only where qmail allows one, and the queue empty and
/// consistent after the drain. <see cref="Counts"/> is the line the matrix
/// reports.
/// </summary>
public sealed class Verdict
{
    public List<string> Lost { get; } = [];
    public List<string> Misplaced { get; } = [];
    public List<string> Partial { get; } = [];
    public List<string> DisallowedDuplicates { get; } = [];
    public int LocalResultLost, BounceResultLost, RemoteResultLost, RemoteCutBeforeReply, DeliveredWithout250, Delivered, Remote, Bounced;

    /// <summary>
    /// Judges what the destinations hold. <paramref name="kills"/> are the
    /// moments of the fault's kill -9s: a second copy is allowed after a first
    /// whose client never read the peer's 250 (qmail's one duplicate: a cut
    /// between the final dot and the reply), or when a kill fell while the
    /// message was in flight (the delivery was made, its result cut before jsmail-send
    /// recorded it, as after a kill of qmail-send or a spawner: the kill came
    /// after the message was sent and before its second copy); any other is
    /// a broken guarantee.
    /// </summary>
    public static Verdict Judge(MixedFlow flow, Deliveries d, IReadOnlyList<DateTime> kills)
    {
        var v = new Verdict();
        var accepted = flow.Accepted.ToDictionary(kv => kv.Key, kv => kv.Value);
        var slack = TimeSpan.FromSeconds(1); // file times against the test's clock
        void Check(List<Copy> copies, Func<Kind, bool> belongs, string where, Action resultLost)
        {
            foreach (var c in copies.Where(c => !c.Complete)) v.Partial.Add($"{where} {c.File}");
            var byAttempt = copies.GroupBy(c => (c.Message, c.Attempt)).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Written).ToList());
            foreach (var ((message, attempt), list) in byAttempt)
            {
                if (!belongs(flow.KindOf(message))) v.Misplaced.Add($"{where}: message {message} ({flow.KindOf(message)})");
                if (!accepted.TryGetValue(message, out var got) || got != attempt) v.DeliveredWithout250++;
                for (var i = 1; i < list.Count; i++)
                {
                    var (first, second) = (list[i - 1], list[i]);
                    if (!first.Acked) v.RemoteCutBeforeReply++;
                    else if (kills.Any(k => k >= flow.Started[message] && k <= second.Written + slack)) resultLost();
                    else v.DisallowedDuplicates.Add($"{where}: message {message} copies at {first.Written:HH:mm:ss.fff} and {second.Written:HH:mm:ss.fff}, no kill between");
                }
            }
            foreach (var (message, attempt) in accepted)
                if (belongs(flow.KindOf(message)) && !byAttempt.ContainsKey((message, attempt)))
                    v.Lost.Add($"{where}: message {message} attempt {attempt} ({flow.KindOf(message)})");
        }
        Check(d.Local, k => k is Kind.Local or Kind.Both, "local", () => v.LocalResultLost++);
        Check(d.Remote, k => k is Kind.Remote or Kind.Both, "remote", () => v.RemoteResultLost++);
        Check(d.Bounced, k => k is Kind.UnknownLocal or Kind.RefusedRemote, "bounce", () => v.BounceResultLost++);
        v.Delivered = d.Local.Count;
        v.Remote = d.Remote.Count;
        v.Bounced = d.Bounced.Count;
        return v;
    }

    public bool AllArrived => Lost.Count == 0;

    public string Counts(MixedFlow flow) =>
        $"accepted {flow.Accepted.Count}/{flow.Count + 1} (refused or cut attempts {flow.Refused}), " +
        $"delivered local {Delivered}, remote {Remote}, bounced {Bounced}; " +
        $"duplicates: {RemoteCutBeforeReply} remote cut after the final dot before the reply; " +
        $"local {LocalResultLost}, remote {RemoteResultLost}, bounce {BounceResultLost} made and then their result cut by a kill; " +
        $"delivered without their 250 {DeliveredWithout250}; lost {Lost.Count}, partial {Partial.Count}, misplaced {Misplaced.Count}";
}
