using System.Text;

namespace Jsmail.Cli;

/// <summary>The filters of <c>jsmail queue list</c>: every one given must match.</summary>
public sealed record QueueFilter(string? Sender, string? Recipient, string? Domain, long? OlderThan, long? YoungerThan, string? State)
{
    public static readonly string[] States = ["todo", "active", "deferred", "held"];

    public bool Matches(QueuedMessage m, long now)
    {
        if (Sender != null && !Contains(m.Sender, Sender)) return false;
        if (Recipient != null && !m.Recipients.Any(r => Contains(r.Address, Recipient))) return false;
        if (Domain != null && !m.Recipients.Any(r => DomainOf(r.Address).Equals(Domain, StringComparison.OrdinalIgnoreCase))) return false;
        if (OlderThan is { } o && now - m.Birth < o) return false;
        if (YoungerThan is { } y && now - m.Birth >= y) return false;
        if (State != null && m.State != State) return false;
        return true;
    }

    private static bool Contains(byte[] address, string part) =>
        Encoding.UTF8.GetString(address).Contains(part, StringComparison.OrdinalIgnoreCase);

    private static string DomainOf(byte[] address)
    {
        var text = Encoding.UTF8.GetString(address);
        var at = text.LastIndexOf('@');
        return at < 0 ? "" : text[(at + 1)..];
    }

    /// <summary>An age: seconds, or a number with s, m, h, d or w (<c>90m</c>, <c>2d</c>); null if it is not one.</summary>
    public static long? ParseAge(string text)
    {
        if (text.Length == 0) return null;
        var unit = char.IsDigit(text[^1]) ? 's' : text[^1];
        var digits = char.IsDigit(text[^1]) ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, null, out var n)) return null;
        long? scale = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, 'w' => 604800, _ => null };
        return scale * n;
    }
}
