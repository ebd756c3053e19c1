using Jsmail.Common.Envelope;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// A message kept out of delivery (a milter's SMFIR_QUARANTINE): it is
/// queued for the quarantine address alone (control/quarantine, by default
/// postmaster at control/me), with the reason and its real envelope in header
/// fields on top, so nothing reaches its recipients until the operator
/// releases it with jsmail-release, which queues it again for its real
/// envelope without those fields (docs/milter.md).
/// </summary>
public static class MessageQuarantine
{
    public const string ControlFile = "quarantine";
    public static ReadOnlySpan<byte> ReasonField => "X-Jsmail-Quarantine: "u8;
    public static ReadOnlySpan<byte> SenderField => "X-Jsmail-Quarantine-Sender: "u8;
    public static ReadOnlySpan<byte> RecipientField => "X-Jsmail-Quarantine-Recipient: "u8;

    /// <summary>The fields that go on top of the message, and the reason as logged (one line, printable).</summary>
    public readonly record struct Note(byte[] Header, byte[] Reason);

    /// <summary>control/quarantine, or postmaster at control/me.</summary>
    public static byte[] Address(Control.ControlReader controls) =>
        controls.ReadListIfPresent(ControlFile) is [{ Length: > 0 } first, ..] ? first
            : [.. "postmaster@"u8, .. controls.ReadLine("me", fallbackToMe: false, literalDefault: null)];

    /// <summary>The envelope that holds the message, and the fields that remember where it was going.</summary>
    public static (QueueEnvelope Envelope, Note Note) Divert(QueueEnvelope real, byte[] reason, byte[] quarantine)
    {
        var clean = OneLine(reason.Length == 0 ? "quarantined by a milter"u8.ToArray() : reason);
        var o = new List<byte>();
        Field(o, ReasonField, clean);
        Field(o, SenderField, [(byte)'<', .. OneLine(real.Sender), (byte)'>']);
        foreach (var r in real.Recipients) Field(o, RecipientField, [(byte)'<', .. OneLine(r), (byte)'>']);
        return (new QueueEnvelope(real.Sender, [quarantine]), new Note(o.ToArray(), clean));
    }

    private static void Field(List<byte> o, ReadOnlySpan<byte> name, byte[] value)
    {
        o.AddRange(name);
        o.AddRange(value);
        o.Add((byte)'\n');
    }

    private static byte[] OneLine(byte[] s)
    {
        var o = (byte[])s.Clone();
        for (var i = 0; i < o.Length; i++) if (o[i] is < 0x20 or 0x7f) o[i] = (byte)' ';
        return o;
    }

    /// <summary>
    /// A quarantined message's real envelope and the message without the
    /// quarantine fields (nor the Return-Path and Delivered-To lines its
    /// delivery to the quarantine mailbox put above them); null when the
    /// message does not start with them.
    /// </summary>
    public static (QueueEnvelope Envelope, byte[] Message)? Release(ReadOnlySpan<byte> held)
    {
        byte[]? sender = null;
        var recipients = new List<byte[]>();
        var pos = 0;
        while (pos < held.Length)
        {
            var lf = held[pos..].IndexOf((byte)'\n');
            if (lf < 0) break;
            var line = held.Slice(pos, lf);
            if (sender == null && recipients.Count == 0 && (line.StartsWith("Return-Path:"u8) || line.StartsWith("Delivered-To:"u8)))
                { } // the quarantine mailbox's own delivery added these
            else if (line.StartsWith(SenderField)) sender = Unbracket(line[SenderField.Length..]);
            else if (line.StartsWith(RecipientField)) recipients.Add(Unbracket(line[RecipientField.Length..]));
            else if (!line.StartsWith(ReasonField)) break;
            pos += lf + 1;
        }
        if (sender == null || recipients.Count == 0) return null;
        return (new QueueEnvelope(sender, recipients), held[pos..].ToArray());
    }

    private static byte[] Unbracket(ReadOnlySpan<byte> a) =>
        (a.Length >= 2 && a[0] == (byte)'<' && a[^1] == (byte)'>' ? a[1..^1] : a).ToArray();
}
