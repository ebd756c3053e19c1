using System.Buffers;
using System.Text;

namespace Jsmail.Common.Spawn;

/// <summary>
/// jsmail's extension of the spawner protocol (docs/spawn-protocol.md): several
/// recipients of one message at one domain in one delivery command, a result
/// per recipient. Spoken only when both sides know the other speaks it:
/// jsmail-start asks the spawner by <see cref="OfferVariable"/> (which
/// qmail-start never sets), and the spawner, only when asked, follows its slot
/// byte with an <see cref="Announcement"/> in the same write, so jsmail-send
/// finds it in the pipe right after that byte or not at all. Neither side ever
/// waits for the other; without the variable everything is qmail's protocol.
/// </summary>
public static class GroupedDelivery
{
    /// <summary>Set by jsmail-start for a spawner whose reader is jsmail-send.</summary>
    public const string OfferVariable = "JSMAIL_SPAWN_PROTOCOL";

    /// <summary>The value of <see cref="OfferVariable"/>: the extension's version.</summary>
    public const string OfferValue = "jsmail1";

    /// <summary>
    /// The first byte of the announcement and of every grouped command: never a
    /// slot (qmail's slots are below <see cref="SpawnerSide.SlotLimit"/>), so a
    /// qmail-send that got an announcement anyway logs one "report out of range".
    /// </summary>
    public const byte Marker = 0xFF;

    /// <summary>The announcement's status byte.</summary>
    public const byte AnnouncementStatus = (byte)'J';

    /// <summary>The most recipients one grouped command may carry, whatever a spawner announces.</summary>
    public const int MaxRecipients = 1000;

    /// <summary>True when this spawner was asked to offer the extension (its reader understands it).</summary>
    public static bool Offered() =>
        Os.Libc.Getenv(OfferVariable) is { } v && v.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(OfferValue));

    /// <summary><c>0xFF J recipients=&lt;n&gt; \0</c>: the spawner takes up to n recipients per command.</summary>
    public static byte[] Announcement(int recipients) =>
        [Marker, AnnouncementStatus, .. Encoding.ASCII.GetBytes($"recipients={recipients}"), 0];

    /// <summary>
    /// The recipients per command that <paramref name="bytes"/> (all that followed
    /// the slot byte at start) announce, or null when they are not exactly one
    /// announcement. Words other than recipients= are for later versions, ignored.
    /// </summary>
    public static int? ParseAnnouncement(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 3 || bytes[0] != Marker || bytes[1] != AnnouncementStatus || bytes[^1] != 0) return null;
        var text = bytes[2..^1];
        if (text.IndexOf((byte)0) >= 0) return null;
        int? recipients = null;
        foreach (var word in Encoding.ASCII.GetString(text).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (word.StartsWith("recipients=", StringComparison.Ordinal) &&
                int.TryParse(word.AsSpan("recipients=".Length), System.Globalization.NumberStyles.None, null, out var n) && n >= 1)
                recipients = Math.Min(n, MaxRecipients);
        return recipients;
    }

    /// <summary>
    /// A grouped command: <c>0xFF &lt;slot&gt;&lt;s&gt;/&lt;id&gt;\0&lt;sender&gt;\0</c>, each
    /// recipient NUL-terminated, then an empty field (<c>\0</c>). The sender is
    /// given as is: jsmail-send never groups the recipients of a VERP sender.
    /// </summary>
    public static byte[] EncodeCommand(byte slot, ulong id, int split, ReadOnlySpan<byte> sender, IReadOnlyList<byte[]> recipients)
    {
        var w = new ArrayBufferWriter<byte>(64 + sender.Length + recipients.Sum(r => r.Length + 1));
        w.Write([Marker, slot]);
        w.Write(Encoding.ASCII.GetBytes($"{id % (ulong)split}/{id}"));
        w.Write([(byte)0]);
        w.Write(sender);
        w.Write([(byte)0]);
        foreach (var r in recipients)
        {
            w.Write(r);
            w.Write([(byte)0]);
        }
        w.Write([(byte)0]);
        return w.WrittenSpan.ToArray();
    }

    public const string TooManyRecipients = "ZInternal error: too many recipients in one delivery. (#4.3.5)\n";
    public const string MixedDomains = "ZInternal error: recipients of one delivery must share a domain. (#4.3.5)\n";

    /// <summary>
    /// Null when the recipients of one command may go in one delivery: each has
    /// an '@' and all share the domain after it (ASCII case-insensitive); else
    /// the refusal each of them gets (a jsmail-send bug: temporary, never
    /// delivered to another domain's host). One recipient is always fine here
    /// (qmail's own checks apply to it).
    /// </summary>
    public static string? CheckRecipients(IReadOnlyList<byte[]> recipients, int max)
    {
        if (recipients.Count > max) return TooManyRecipients;
        if (recipients.Count == 1) return null;
        var first = DomainOf(recipients[0]);
        if (first == null) return MixedDomains;
        for (var i = 1; i < recipients.Count; i++)
            if (DomainOf(recipients[i]) is not { } d || !Ascii.EqualsIgnoreCase(d, first)) return MixedDomains;
        return null;
    }

    /// <summary>The text after the last '@', or null without one.</summary>
    public static byte[]? DomainOf(ReadOnlySpan<byte> recipient)
    {
        var at = recipient.LastIndexOf((byte)'@');
        return at < 0 ? null : recipient[(at + 1)..].ToArray();
    }
}
