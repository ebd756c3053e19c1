using Jsmail.Common.Tcp;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// tcprules records as tcpserver reads them from its cdb: the input's lines are
/// "key=data" records (data with NUL-separated items), and the last line is
/// "ip host info" looked up through them in tcpserver's order.
/// </summary>
public static class TcpRulesHarness
{
    public static void Run(byte[] data)
    {
        var lines = Invariant.Lines(data);
        var query = lines[^1];
        var records = new Dictionary<string, byte[]>();
        foreach (var line in lines.Take(lines.Count - 1))
        {
            var eq = Array.IndexOf(line, (byte)'=');
            var key = eq < 0 ? line : line[..eq];
            var value = eq < 0 ? [] : line[(eq + 1)..];
            records.TryAdd(Convert.ToHexString(key), value);
            Check(TcpRules.Parse(key, value), value);
        }
        var words = Invariant.Lines(query.Select(b => b == (byte)' ' ? (byte)'\n' : b).ToArray());
        var ip = words[0];
        var host = words.Count > 1 ? words[1] : null;
        var info = words.Count > 2 ? words[2] : null;
        var asked = new List<byte[]>();
        var decision = TcpRules.Decide(k => { asked.Add(k); return records.GetValueOrDefault(Convert.ToHexString(k)); }, ip, host, info);
        if (decision.Rule == null)
        {
            That(decision.Allowed && decision.Assignments.Count == 0, "no rule allows, with nothing set");
            That(asked.All(k => !records.ContainsKey(Convert.ToHexString(k))), "no rule only when no key asked for exists");
            return;
        }
        That(records.ContainsKey(Convert.ToHexString(decision.Rule)), "the rule is a record's key");
        Same(decision.Rule, asked[^1], "the first key found decides");
        Check(decision, records[Convert.ToHexString(decision.Rule)]);
    }

    private static void Check(TcpRuleDecision decision, byte[] data)
    {
        foreach (var a in decision.Assignments)
        {
            That(a.Name.Length + a.Value.Length < data.Length, "an assignment is part of its record");
            That(Array.IndexOf(a.Name, (byte)0) < 0 && Array.IndexOf(a.Value, (byte)0) < 0, "assignments hold no NUL");
            That(Array.IndexOf(a.Name, (byte)'=') < 0, "a name holds no '='");
        }
        var items = data.Count(b => b == 0);
        That(decision.Assignments.Count <= items, "at most one assignment per item");
    }
}
