using System.Text;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

/// <summary>
/// The deliveries of one pass over a channel file: its pending <c>T</c>
/// records, those at one domain (the text after the last '@', ASCII
/// case-insensitive) together in groups of at most <c>limit</c>, each group
/// placed where its first recipient is. With a limit of 1 every recipient is a
/// delivery of its own in file order, as qmail-send makes them. A recipient
/// without '@' is always alone. Planning stops at a record of unknown type,
/// as qmail-send's pass does.
/// </summary>
public static class RecipientGroups
{
    public sealed record Plan(List<DeliveryRecipient[]> Deliveries, bool UnknownRecord);

    public static Plan Of(ReadOnlySpan<byte> channelFile, int limit)
    {
        var deliveries = new List<List<DeliveryRecipient>>();
        var open = new Dictionary<string, List<DeliveryRecipient>>();
        var pos = 0;
        while (true)
        {
            var rest = channelFile[pos..];
            var nul = rest.IndexOf((byte)0);
            if (nul < 0) break; // the end (a record without its NUL is not one)
            var record = rest[..(nul + 1)];
            if (record[0] == (byte)'T')
            {
                var recipient = new DeliveryRecipient(record[1..^1].ToArray(), pos);
                if (limit <= 1 || Key(recipient.Address) is not { } key) deliveries.Add([recipient]);
                else
                {
                    if (!open.TryGetValue(key, out var group) || group.Count >= limit)
                    {
                        open[key] = group = [];
                        deliveries.Add(group);
                    }
                    group.Add(recipient);
                }
            }
            else if (record[0] != (byte)'D')
                return new Plan(Done(deliveries), UnknownRecord: true);
            pos += record.Length;
        }
        return new Plan(Done(deliveries), UnknownRecord: false);
    }

    private static List<DeliveryRecipient[]> Done(List<List<DeliveryRecipient>> deliveries) =>
        deliveries.ConvertAll(d => d.ToArray());

    /// <summary>The domain, ASCII lower-cased, or null without an '@'.</summary>
    private static string? Key(ReadOnlySpan<byte> address)
    {
        var at = address.LastIndexOf((byte)'@');
        if (at < 0) return null;
        var domain = address[(at + 1)..].ToArray();
        for (var i = 0; i < domain.Length; i++)
            if (domain[i] is >= (byte)'A' and <= (byte)'Z') domain[i] += 32;
        return Encoding.Latin1.GetString(domain);
    }
}
