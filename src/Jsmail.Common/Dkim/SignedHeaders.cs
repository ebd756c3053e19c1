using System.Text;
using Jsmail.Common.Message;
using Jsmail.Common.Control;

namespace Jsmail.Common.Dkim;

/// <summary>
/// Which fields a signature covers (RFC 6376 §5.4, §5.4.2): those of the
/// recommended set present in the message, every instance of each, plus one
/// more "from" (and of the other fields a sender adds only once) than the
/// message holds, so that a field of that name added later breaks the
/// signature ("oversigning").
/// </summary>
internal static class SignedHeaders
{
    public static readonly string[] Names =
    [
        "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
        "mime-version", "content-type", "content-transfer-encoding", "content-id", "content-description",
        "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-message-id",
        "in-reply-to", "references",
        "list-id", "list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive",
    ];

    public static readonly string[] Oversigned = ["from", "subject", "date", "to", "cc", "reply-to", "message-id"];

    /// <summary>The h= list in order: each name as many times as it is present, oversigned ones once more.</summary>
    public static List<string> Choose(IReadOnlyList<HeaderField> fields)
    {
        var list = new List<string>();
        foreach (var name in Names)
        {
            var count = fields.Count(f => NameIs(f, name));
            if (Oversigned.Contains(name)) count++;
            for (var i = 0; i < count; i++) list.Add(name);
        }
        return list;
    }

    /// <summary>
    /// The canonical fields h= names, in its order: each name takes the last
    /// field of that name not yet taken (§5.4.2); a name with none left adds nothing.
    /// </summary>
    public static byte[] Canonical(IReadOnlyList<HeaderField> fields, IReadOnlyList<string> h)
    {
        var taken = new bool[fields.Count];
        var o = new List<byte>();
        foreach (var name in h)
        {
            for (var i = fields.Count - 1; i >= 0; i--)
            {
                if (taken[i] || !NameIs(fields[i], name)) continue;
                taken[i] = true;
                o.AddRange(RelaxedHeader.Canonicalize(fields[i].Lines()));
                break;
            }
        }
        return o.ToArray();
    }

    private static bool NameIs(HeaderField field, string lowerName) =>
        AsciiCase.EqualsIgnoringCase(field.Name, Encoding.Latin1.GetBytes(lowerName));
}
