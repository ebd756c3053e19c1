namespace Jsmail.Common.Remote;

/// <summary>
/// A peer's RFC 9422 limits from its EHLO keyword <c>LIMITS RCPTMAX=n MAILMAX=n</c>:
/// recipients per transaction and transactions per session, 0 where none is
/// known. Limits it does not know, values that are not 1 to 9 digits above
/// zero, and a repeated limit after its first are ignored (RFC 9422 §3: an
/// unknown or malformed limit must not stop the client).
/// </summary>
public readonly record struct PeerLimits(int RcptMax, int MailMax)
{
    public static readonly PeerLimits None = new(0, 0);

    public static PeerLimits Parse(string argument)
    {
        int rcpt = 0, mail = 0;
        foreach (var word in argument.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=');
            if (eq <= 0 || !TryValue(word.AsSpan(eq + 1), out var value)) continue;
            var name = word[..eq];
            if (name.Equals("RCPTMAX", StringComparison.OrdinalIgnoreCase) && rcpt == 0) rcpt = value;
            else if (name.Equals("MAILMAX", StringComparison.OrdinalIgnoreCase) && mail == 0) mail = value;
        }
        return new(rcpt, mail);
    }

    private static bool TryValue(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 9) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return value > 0;
    }
}
