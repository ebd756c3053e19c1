using System.Text;
using Jsmail.Common.Message;

namespace Jsmail.Common.Dkim;

/// <summary>
/// Which key signs: the one for the domain of the From field (the author,
/// what DMARC aligns with); when From names no domain or none of its
/// domain's lines applies, the one for the envelope sender's domain ($SENDER).
/// </summary>
internal static class KeyChoice
{
    public static SigningKey? For(KeyTable keys, IReadOnlyList<HeaderField> fields, byte[]? envelopeSender)
    {
        var from = fields.FirstOrDefault(f => Encoding.Latin1.GetString(f.Name).Equals("from", StringComparison.OrdinalIgnoreCase));
        if (from != null && AuthorDomain.OfFromField(from) is { } author && keys.Find(author) is { } byAuthor)
            return byAuthor;
        if (envelopeSender != null && AuthorDomain.DomainOf(envelopeSender) is { } senderDomain)
            return keys.Find(senderDomain);
        return null;
    }
}
