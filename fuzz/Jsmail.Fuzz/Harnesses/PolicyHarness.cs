using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Policy;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>A policy service's answers (Postfix's policy protocol), as received from a hostile service.</summary>
public static class PolicyHarness
{
    public static void Run(byte[] data)
    {
        ReadOnlySpan<byte> rest = data;
        while (!rest.IsEmpty)
        {
            var length = PolicyReply.Complete(rest);
            That(length == -1 || length >= 1 && length <= rest.Length, "Complete is -1 or within the input");
            var answer = length < 0 ? rest : rest[..length];
            var verdict = PolicyReply.Parse(answer);
            if (verdict != null) Verdict(verdict);
            if (length < 0) break;
            rest = rest[length..];
        }
    }

    private static void Verdict(HookVerdict v)
    {
        var refusal = v.Decision is HookDecision.Reject or HookDecision.Defer or HookDecision.DeferIfPermit or HookDecision.DeferIfReject or HookDecision.Disconnect;
        if (!refusal) return;
        That(v.Code is >= 400 and <= 599, "a refusal has a 4xx or 5xx code");
        That(v.Enhanced is { Length: > 0 } e && e[0] == (char)('0' + v.Code / 100), "the enhanced code's class is the reply's");
        That(v.Text is { Length: > 0 } t && t.All(b => b is >= 32 and < 127 or (byte)'\t'), "the text is printable ASCII");
        That(Array.IndexOf(v.Text!, (byte)'\r') < 0 && Array.IndexOf(v.Text!, (byte)'\n') < 0, "no CR or LF reaches a reply");
    }
}
