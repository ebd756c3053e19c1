using Jsmail.Common.Envelope;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// A message kept out of delivery (a milter's SMFIR_QUARANTINE): it is
/// queued for the quarantine address alone (control/quarantine, by default
/// postmaster at control/me), with the reason and its real envelope in header
/// fields on top, so nothing reaches its recipients until the operator
/// releases it with jsmail-release, which queues it again for its real
/// envelope, ESMTP parameters included, without those fields (docs/milter.md).
/// A policy service's HOLD holds a message the same way (docs/policy.md).
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

    /// <summary>
    /// The envelope that holds the message, and the fields that remember where
    /// it was going: each address with its ESMTP parameters after it
    /// (<c>&lt;bob@example.com&gt; NOTIFY=FAILURE ORCPT=rfc822;bob@example.com</c>),
    /// so that a released message keeps them. The held copy keeps the MAIL
    /// parameters (they describe the message); the recipients' stay in the fields.
    /// </summary>
    public static (QueueEnvelope Envelope, Note Note) Divert(QueueEnvelope real, byte[] reason, byte[] quarantine)
    {
        var clean = OneLine(reason.Length == 0 ? "quarantined by a milter"u8.ToArray() : reason);
        var o = new List<byte>();
        Field(o, ReasonField, clean);
        Field(o, SenderField, WithParameters(real.Sender, real.Extension?.Sender));
        for (var i = 0; i < real.Recipients.Count; i++)
            Field(o, RecipientField, WithParameters(real.Recipients[i], real.Extension?.ParametersOf(i)));
        EnvelopeExtension? kept = null;
        if (real.Extension is { Sender.Count: > 0 } ext)
        {
            kept = new EnvelopeExtension();
            kept.Sender.AddRange(ext.Sender);
        }
        return (new QueueEnvelope(real.Sender, [quarantine], kept), new Note(o.ToArray(), clean));
    }

    /// <summary>&lt;address&gt; and its parameters, space-separated, as MAIL and RCPT carry them.</summary>
    private static byte[] WithParameters(byte[] address, IReadOnlyList<EsmtpParameter>? parameters)
    {
        var o = new List<byte> { (byte)'<' };
        o.AddRange(OneLine(address));
        o.Add((byte)'>');
        foreach (var p in parameters ?? [])
        {
            o.Add((byte)' ');
            o.AddRange(System.Text.Encoding.ASCII.GetBytes(p.Keyword));
            if (p.Value is { } v) { o.Add((byte)'='); o.AddRange(v); }
        }
        return o.ToArray();
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
    /// quarantine fields (nor the lines put above them: the queue program's
    /// Received line, the quarantine delivery's Return-Path and Delivered-To);
    /// null when the message does not start with them.
    /// </summary>
    public static (QueueEnvelope Envelope, byte[] Message)? Release(ReadOnlySpan<byte> held)
    {
        (byte[] Address, List<EsmtpParameter> Parameters)? sender = null;
        var recipients = new List<(byte[] Address, List<EsmtpParameter> Parameters)>();
        var pos = 0;
        while (pos < held.Length)
        {
            var lf = held[pos..].IndexOf((byte)'\n');
            if (lf < 0) break;
            var line = held.Slice(pos, lf);
            if (sender == null && recipients.Count == 0 && (line.StartsWith("Return-Path:"u8) || line.StartsWith("Delivered-To:"u8) ||
                                                            line.StartsWith("Received: (qmail "u8)))
                { } // the quarantine mailbox's delivery and the queue program added these; the queue adds its line again
            else if (line.StartsWith(SenderField)) sender = AddressAndParameters(line[SenderField.Length..]);
            else if (line.StartsWith(RecipientField)) recipients.Add(AddressAndParameters(line[RecipientField.Length..]));
            else if (!line.StartsWith(ReasonField)) break;
            pos += lf + 1;
        }
        if (sender is not { } from || recipients.Count == 0) return null;
        var extension = new EnvelopeExtension();
        extension.Sender.AddRange(from.Parameters);
        for (var i = 0; i < recipients.Count; i++)
            if (recipients[i].Parameters.Count > 0) extension.ForRecipient(i).AddRange(recipients[i].Parameters);
        var envelope = new QueueEnvelope(from.Address, recipients.Select(r => r.Address).ToList(), extension.IsEmpty ? null : extension);
        return (envelope, held[pos..].ToArray());
    }

    /// <summary>
    /// The address in its brackets and the parameters after it. An address may
    /// itself hold "&gt; ": the first such end that leaves a well-formed
    /// parameter list is taken; a field ending in '&gt;' is an address alone.
    /// </summary>
    private static (byte[], List<EsmtpParameter>) AddressAndParameters(ReadOnlySpan<byte> field)
    {
        if (field.Length >= 2 && field[0] == (byte)'<' && field[^1] != (byte)'>')
        {
            for (var end = field.IndexOf("> "u8); end > 0; )
            {
                if (EsmtpParameters.Split(field[(end + 2)..], out var list) == EsmtpParameterFault.None && list.Count > 0)
                    return (field[1..end].ToArray(), list.Select(p => p with { Keyword = p.Keyword.ToUpperInvariant() }).ToList());
                var next = field[(end + 1)..].IndexOf("> "u8);
                end = next < 0 ? -1 : end + 1 + next;
            }
        }
        return (Unbracket(field), []);
    }

    private static byte[] Unbracket(ReadOnlySpan<byte> a) =>
        (a.Length >= 2 && a[0] == (byte)'<' && a[^1] == (byte)'>' ? a[1..^1] : a).ToArray();
}
