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
    public int LocalDuplicates, RemoteDuplicatesAfterCut, BounceDuplicates, DeliveredWithout250, Delivered, Remote, Bounced;

    public static Verdict Judge(MixedFlow flow, Deliveries d)
    {
        var v = new Verdict();
        var accepted = flow.Accepted.ToDictionary(kv => kv.Key, kv => kv.Value);
        void Check(List<Copy> copies, Func<Kind, bool> belongs, string where, Action<List<Copy>> duplicate)
        {
            foreach (var c in copies.Where(c => !c.Complete)) v.Partial.Add($"{where} {c.File}");
            var byAttempt = copies.GroupBy(c => (c.Message, c.Attempt)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var ((message, attempt), list) in byAttempt)
            {
                if (!belongs(flow.KindOf(message))) v.Misplaced.Add($"{where}: message {message} ({flow.KindOf(message)})");
                if (!accepted.TryGetValue(message, out var got) || got != attempt) v.DeliveredWithout250++;
                if (list.Count > 1) duplicate(list);
            }
            foreach (var (message, attempt) in accepted)
                if (belongs(flow.KindOf(message)) && !byAttempt.ContainsKey((message, attempt)))
                    v.Lost.Add($"{where}: message {message} attempt {attempt} ({flow.KindOf(message)})");
        }
        Check(d.Local, k => k is Kind.Local or Kind.Both, "local", list => v.LocalDuplicates += list.Count - 1);
        Check(d.Remote, k => k is Kind.Remote or Kind.Both, "remote", list =>
        {
            // qmail's rule: a second copy only after a first whose client never read the 250
            var earlier = list.Count(c => !c.Acked);
            if (earlier >= list.Count - 1) v.RemoteDuplicatesAfterCut += list.Count - 1;
            else v.DisallowedDuplicates.Add($"remote: message {list[0].Message} {list.Count} copies, {list.Count - earlier} acknowledged");
        });
        Check(d.Bounced, k => k is Kind.UnknownLocal or Kind.RefusedRemote, "bounce", list => v.BounceDuplicates += list.Count - 1);
        v.Delivered = d.Local.Count;
        v.Remote = d.Remote.Count;
        v.Bounced = d.Bounced.Count;
        return v;
    }

    public bool AllArrived => Lost.Count == 0;

    public string Counts(MixedFlow flow) =>
        $"accepted {flow.Accepted.Count}/{flow.Count + 1} (refused or cut attempts {flow.Refused}), " +
        $"delivered local {Delivered}, remote {Remote}, bounced {Bounced}; " +
        $"duplicates: local {LocalDuplicates} (delivery made, result lost to a crash), " +
        $"remote {RemoteDuplicatesAfterCut} (cut after the final dot, before the reply), bounce {BounceDuplicates} (bounce made, done mark lost to a crash); " +
        $"delivered without their 250 {DeliveredWithout250}; lost {Lost.Count}, partial {Partial.Count}, misplaced {Misplaced.Count}";
}
