using Jsmail.Common.Spawn;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// Both sides of the qmail-send ⇄ spawner protocol. Byte 0 picks grouped
/// commands and the chunking; the rest is read as a command stream (the
/// spawner's side) and as a result stream (qmail-send's side). Any chunking
/// decodes alike, and what decodes re-encodes to a stream that decodes the same.
/// </summary>
public static class SpawnHarness
{
    public static void Run(byte[] data)
    {
        if (data.Length == 0) return;
        var grouped = (data[0] & 0x80) != 0;
        var stream = data.AsSpan(1).ToArray();

        var commands = Commands(stream, grouped, [stream.Length]);
        var chunked = Commands(stream, grouped, Chunks(stream.Length, data[0]));
        That(Describe(commands) == Describe(chunked), "chunking does not change the commands");
        var reencoded = new List<byte>();
        foreach (var c in commands)
        {
            That(c.Recipients.Count >= 1, "a command has a recipient");
            foreach (var field in new[] { c.MessageId, c.Sender }.Concat(c.Recipients))
                That(Array.IndexOf(field, (byte)0) < 0, "no field holds a NUL");
            if (c.Recipients.Count > 1) That(c.Recipients.All(r => r.Length > 0), "grouped recipients are not empty");
            SpawnerSide.CheckMessageId(c.MessageId);
            GroupedDelivery.CheckRecipients(c.Recipients, GroupedDelivery.MaxRecipients);
            // With groups offered every command is re-encoded as a group (a slot byte of 0xFF could not be told from the marker otherwise).
            if (grouped) reencoded.Add(GroupedDelivery.Marker);
            reencoded.Add(c.Slot);
            var fields = grouped ? new[] { c.MessageId, c.Sender }.Concat(c.Recipients.Where(r => r.Length > 0)) : new[] { c.MessageId, c.Sender }.Concat(c.Recipients);
            foreach (var field in fields) { reencoded.AddRange(field); reencoded.Add(0); }
            if (grouped) reencoded.Add(0);
        }
        var again = Commands(reencoded.ToArray(), grouped, [reencoded.Count]);
        That(Describe(again) == Describe(commands), "commands re-encode to themselves");

        var results = Results(stream, [stream.Length], out var partial);
        var results2 = Results(stream, Chunks(stream.Length, data[0]), out var partial2);
        That(Describe(results) == Describe(results2) && partial == partial2, "chunking does not change the results");
        var reresults = new List<byte>();
        foreach (var r in results)
        {
            That(r.Text.Length <= ResultDecoder.MaxLine, "a result text is bounded");
            if (Encodable(r)) reresults.AddRange(SpawnerSide.EncodeResult(r.Slot, r.Status, r.Text));
            Same(LogSafe.Of(r.Text), LogSafe.Of(LogSafe.Of(r.Text)), "log-safe text is a fixed point");
        }
        var reread = Results(reresults.ToArray(), [reresults.Count], out _);
        var expected = Describe(results.Where(Encodable).ToList());
        That(Describe(reread) == expected, $"results re-encode to themselves: {expected} became {Describe(reread)}");

        GroupedDelivery.ParseAnnouncement(stream);
        if (commands.Count > 0) Verp.Expand(commands[0].Sender, commands[0].Recipient);
    }

    /// <summary>A result "slot NUL" has no status (the NUL is its end), and a text never holds NUL: neither can be written again.</summary>
    private static bool Encodable(DeliveryResult r) => r.Status != 0 && Array.IndexOf(r.Text, (byte)0) < 0;

    private static List<SpawnCommand> Commands(byte[] stream, bool grouped, IEnumerable<int> chunks)
    {
        var decoder = new SpawnCommandDecoder(grouped);
        var completed = new List<SpawnCommand>();
        var at = 0;
        foreach (var n in chunks) { decoder.Feed(stream.AsSpan(at, n), completed); at += n; }
        return completed;
    }

    private static List<DeliveryResult> Results(byte[] stream, IEnumerable<int> chunks, out bool partial)
    {
        var decoder = new ResultDecoder();
        var results = new List<DeliveryResult>();
        var at = 0;
        foreach (var n in chunks) { decoder.Feed(stream.AsSpan(at, n), results); at += n; }
        partial = decoder.HasPartial;
        return results;
    }

    private static string Describe(IEnumerable<SpawnCommand> commands) => string.Join(";", commands.Select(c =>
        $"{c.Slot}:{Convert.ToHexString(c.MessageId)}:{Convert.ToHexString(c.Sender)}:{string.Join(",", c.Recipients.Select(Convert.ToHexString))}"));

    private static string Describe(IEnumerable<DeliveryResult> results) =>
        string.Join(";", results.Select(r => $"{r.Slot}:{r.Status}:{Convert.ToHexString(r.Text)}"));
}
