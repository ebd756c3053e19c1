namespace Jsmail.Common.Envelope;

/// <summary>An ESMTP parameter as given on MAIL or RCPT: <c>KEYWORD[=value]</c>.</summary>
public sealed record EsmtpParameter(string Keyword, byte[]? Value)
{
    public string? ValueText => Value == null ? null : System.Text.Encoding.UTF8.GetString(Value);

    public static EsmtpParameter Of(string keyword, string? value = null) =>
        new(keyword, value == null ? null : System.Text.Encoding.UTF8.GetBytes(value));
}

/// <summary>
/// What the envelope extension carries beside a plain qmail envelope: the
/// MAIL FROM parameters, and the RCPT TO parameters of each recipient by its
/// position among the envelope's T records (0-based). See docs/envelope.md.
/// </summary>
public sealed class EnvelopeExtension
{
    public List<EsmtpParameter> Sender { get; } = new();
    public SortedDictionary<int, List<EsmtpParameter>> Recipients { get; } = new();

    public bool IsEmpty => Sender.Count == 0 && Recipients.Values.All(l => l.Count == 0);

    public List<EsmtpParameter> ForRecipient(int index)
    {
        if (!Recipients.TryGetValue(index, out var list))
            Recipients[index] = list = new List<EsmtpParameter>();
        return list;
    }

    public IReadOnlyList<EsmtpParameter> ParametersOf(int index) =>
        Recipients.TryGetValue(index, out var list) ? list : Array.Empty<EsmtpParameter>();

    public static EsmtpParameter? Find(IEnumerable<EsmtpParameter> list, string keyword) =>
        list.FirstOrDefault(p => string.Equals(p.Keyword, keyword, StringComparison.OrdinalIgnoreCase));
}
