using System.Text;
using Jsmail.Common.Smtp.Hooks;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>
/// A policy service's answer: <c>action=...</c> and an empty line, read as
/// Postfix reads an access(5) result (plugin-protocols.md §3.3) and mapped
/// into a <see cref="HookVerdict"/>.
/// </summary>
public static class PolicyReply
{
    /// <summary>Longer answers are a broken service, not an answer.</summary>
    public const int MaxLength = 4096;

    /// <summary>Postfix's reply to an action it does not understand (a malformed access table entry).</summary>
    public static readonly HookVerdict Unknown = new(HookDecision.Defer, 451, "4.3.5", "Server configuration error"u8.ToArray());

    /// <summary>The length of the answer at the start of <paramref name="received"/> (its empty line included), or -1 when it is not all there yet.</summary>
    public static int Complete(ReadOnlySpan<byte> received)
    {
        if (received.Length > 0 && received[0] == (byte)'\n') return 1;
        var end = received.IndexOf("\n\n"u8);
        return end < 0 ? -1 : end + 2;
    }

    /// <summary>The verdict of a whole answer; null when it has no <c>action=</c> line (the service is broken).</summary>
    public static HookVerdict? Parse(ReadOnlySpan<byte> answer)
    {
        ReadOnlySpan<byte> action = default;
        var found = false;
        while (!answer.IsEmpty)
        {
            var lf = answer.IndexOf((byte)'\n');
            var line = lf < 0 ? answer : answer[..lf];
            answer = lf < 0 ? default : answer[(lf + 1)..];
            if (line.StartsWith("action="u8) && !found) { action = line[7..]; found = true; }
        }
        return found ? Action(Printable(action)) : null;
    }

    /// <summary>One access(5) action: a keyword (any case) or a reply code, and its text.</summary>
    public static HookVerdict Action(string action)
    {
        action = action.Trim();
        var sp = action.IndexOfAny([' ', '\t']);
        var keyword = sp < 0 ? action : action[..sp];
        var text = sp < 0 ? "" : action[(sp + 1)..].Trim();
        if (keyword.Length > 0 && keyword.All(char.IsAsciiDigit))
            return text.Length > 0 && keyword.Length == 3 && keyword[0] is '4' or '5' ? Numeric(int.Parse(keyword), text) : new(HookDecision.Accept);
        return keyword.ToUpperInvariant() switch
        {
            "OK" => new(HookDecision.Accept),
            "DUNNO" => HookVerdict.Continue,
            "REJECT" => Refusal(HookDecision.Reject, 554, text),
            "DEFER" => Refusal(HookDecision.Defer, 450, text),
            "DEFER_IF_PERMIT" => Refusal(HookDecision.DeferIfPermit, 450, text),
            "DEFER_IF_REJECT" => Refusal(HookDecision.DeferIfReject, 450, text),
            "DISCARD" => new(HookDecision.Accept) { Discard = true, Log = Said("DISCARD", text) },
            "HOLD" => new(HookDecision.Continue, Text: Encoding.ASCII.GetBytes(text.Length == 0 ? "triggers HOLD action" : text))
                { Hold = true, Log = Said("HOLD", text) },
            "PREPEND" => IsHeader(text)
                ? new(HookDecision.Continue) { PrependHeader = Encoding.ASCII.GetBytes(text) }
                : new(HookDecision.Continue) { Log = $"PREPEND {text}: not a header line, ignored" },
            "WARN" or "INFO" => new(HookDecision.Continue) { Log = Said(keyword.ToUpperInvariant(), text) },
            "FILTER" or "REDIRECT" or "BCC" => new(HookDecision.Continue) { Log = $"{keyword.ToUpperInvariant()} {text}: not supported, ignored" },
            _ => Unknown with { Log = $"unknown action {action}: refused for now, as Postfix does" },
        };
    }

    private static string Said(string keyword, string text) => text.Length == 0 ? keyword : keyword + " " + text;

    /// <summary>
    /// <c>4NN text</c> or <c>5NN text</c>; 421 and 521 also end the connection.
    /// An enhanced code at the start of the text is kept when its class agrees with the reply code.
    /// </summary>
    private static HookVerdict Numeric(int code, string text)
    {
        var decision = code is 421 or 521 ? HookDecision.Disconnect : code >= 500 ? HookDecision.Reject : HookDecision.Defer;
        return Refusal(decision, code, text);
    }

    private static HookVerdict Refusal(HookDecision decision, int code, string text)
    {
        var cls = (char)('0' + code / 100);
        var enhanced = $"{cls}.7.1";
        var sp = text.IndexOf(' ');
        var first = sp < 0 ? text : text[..sp];
        if (first.Length > 0 && SmtpReplies.IsEnhanced(Encoding.ASCII.GetBytes(first)))
        {
            enhanced = cls + first[1..]; // Postfix mends a class that disagrees with the code
            text = sp < 0 ? "" : text[(sp + 1)..].TrimStart();
        }
        if (text.Length == 0) text = "Access denied";
        return new HookVerdict(decision, code, enhanced, Encoding.ASCII.GetBytes(text));
    }

    /// <summary>"Name: value": a name of printable characters other than ':' and space, then a colon.</summary>
    private static bool IsHeader(string text)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        for (var i = 0; i < colon; i++)
            if (text[i] is <= ' ' or > '~') return false;
        return true;
    }

    /// <summary>Only printable ASCII reaches a reply or a header; anything else becomes '?'.</summary>
    private static string Printable(ReadOnlySpan<byte> s)
    {
        var chars = new char[s.Length];
        for (var i = 0; i < s.Length; i++) chars[i] = s[i] is >= 32 and < 127 or (byte)'\t' ? (char)s[i] : '?';
        return new string(chars);
    }
}
