namespace Jsmail.Common.Tcp;

/// <summary>One environment assignment of a rule: NAME="value" in tcprules' input.</summary>
public readonly record struct TcpRuleAssignment(byte[] Name, byte[] Value)
{
    /// <summary>"NAME=value", the entry a child's environment gets.</summary>
    public byte[] Entry => [.. Name, (byte)'=', .. Value];
}

/// <summary>
/// What tcpserver does with a connection after its rules: drop it or run the
/// program, with the assignments of the rule it followed.
/// </summary>
public sealed class TcpRuleDecision(bool allowed, byte[]? rule, IReadOnlyList<TcpRuleAssignment> assignments)
{
    /// <summary>No rule applies (or there are no rules): allowed, nothing assigned.</summary>
    public static TcpRuleDecision NoRule { get; } = new(true, null, []);

    public bool Allowed { get; } = allowed;

    /// <summary>The key of the rule followed ("" for the default rule), or null when none applies.</summary>
    public byte[]? Rule { get; } = rule;

    /// <summary>
    /// In the rule's order, repeats included (a later one wins, as in the
    /// environment). A denying rule keeps those before its deny, as
    /// tcprulescheck shows them; tcpserver drops the connection all the same.
    /// </summary>
    public IReadOnlyList<TcpRuleAssignment> Assignments { get; } = assignments;
}
