using Jsmail.Common.Tcp;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>Decisions as text and rules as tables, for the rule tests.</summary>
internal static class TcpRuleTestText
{
    /// <summary>A decision on one line: "rule KEY: NAME=value ... allow|deny", or "default: allow".</summary>
    public static string Summary(TcpRuleDecision d) =>
        string.Join(' ', new[] { d.Rule == null ? "default:" : $"rule {Text(d.Rule)}:" }
            .Concat(d.Assignments.Select(a => Text(a.Entry)))
            .Append(d.Allowed ? "allow" : "deny"));

    /// <summary>A lookup over a table of keys and data, as a cdb would answer it.</summary>
    public static Func<byte[], byte[]?> Lookup(Dictionary<string, string> records) =>
        key => records.TryGetValue(Text(key), out var data) ? Bytes(data) : null;
}
