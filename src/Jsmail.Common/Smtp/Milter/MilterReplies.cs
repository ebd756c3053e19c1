using Jsmail.Common.Control;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>What a filter's replies mean: the decision that ends a stage, and the edits before it at end of message.</summary>
public static class MilterReplies
{
    /// <summary>
    /// The decision a reply packet holds, or null when it is an edit (or
    /// progress) and the decision is still to come. accept ends the filter's
    /// part (<paramref name="accepted"/>). A packet no filter sends is a
    /// protocol error.
    /// </summary>
    public static MilterOutcome? Decision(MilterPacket reply, out bool accepted)
    {
        accepted = false;
        switch (reply.Code)
        {
            case P.Continue: return MilterOutcome.Continue;
            case P.Accept: accepted = true; return MilterOutcome.Continue;
            case P.Reject: return new MilterOutcome(MilterVerdict.Reject);
            case P.Tempfail: return MilterOutcome.Tempfail;
            case P.Discard: return new MilterOutcome(MilterVerdict.Discard);
            case P.Shutdown: return new MilterOutcome(MilterVerdict.Shutdown);
            case P.ConnFail: return new MilterOutcome(MilterVerdict.Shutdown);
            case P.ReplyCode: return Custom(reply.Data);
            case P.AddHeader or P.InsertHeader or P.ChangeHeader or P.ReplaceBody or P.ChangeFrom or P.AddRcpt
                or P.AddRcptPar or P.DelRcpt or P.Quarantine or P.Progress or P.Skip:
                return null;
            default: throw new MilterProtocolException($"unknown reply '{(char)reply.Code}'");
        }
    }

    /// <summary>SMFIR_REPLYCODE: a 4xx or 5xx code and text; its class decides tempfail or reject.</summary>
    private static MilterOutcome Custom(byte[] data)
    {
        var text = data.AsSpan();
        var nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        if (text.Length < 3 || text[0] is not ((byte)'4' or (byte)'5') || !char.IsAsciiDigit((char)text[1]) ||
            !char.IsAsciiDigit((char)text[2]) || (text.Length > 3 && text[3] is not ((byte)' ' or (byte)'-')))
            throw new MilterProtocolException("a reply code that is not 4xx or 5xx");
        var clean = text.ToArray();
        for (var i = 0; i < clean.Length; i++) if (clean[i] is (byte)'\r' or (byte)'\n') clean[i] = (byte)' ';
        return new MilterOutcome(text[0] == (byte)'4' ? MilterVerdict.Tempfail : MilterVerdict.Reject, clean);
    }

    /// <summary>
    /// Applies one filter's end-of-message edits, in the order sent, those its
    /// negotiated actions allow; others are refused as protocol errors (the
    /// caller then takes the default, and nothing of them is kept).
    /// </summary>
    public static void Apply(IReadOnlyList<MilterPacket> edits, MilterTransaction t, P.Actions allowed, bool leadingSpace)
    {
        List<byte>? body = null;
        foreach (var e in edits)
        {
            if (e.Code == P.Progress || e.Code == P.Skip) continue;
            var s = e.Strings();
            switch (e.Code)
            {
                case P.AddHeader when Allowed(allowed, P.Actions.AddHeaders) && s.Count >= 2 && IsFieldName(s[0]):
                    t.Message.Add(s[0], s[1], leadingSpace); break;
                case P.InsertHeader when Allowed(allowed, P.Actions.AddHeaders) && e.LeadingNumber is { } at && Two(e, out var n, out var v):
                    t.Message.Insert(at, n, v, leadingSpace); break;
                case P.ChangeHeader when Allowed(allowed, P.Actions.ChangeHeaders) && e.LeadingNumber is { } index && Two(e, out var n, out var v):
                    t.Message.Change(index, n, v, leadingSpace); break;
                case P.ReplaceBody when Allowed(allowed, P.Actions.ChangeBody):
                    (body ??= new List<byte>()).AddRange(e.Data); break;
                case P.ChangeFrom when Allowed(allowed, P.Actions.ChangeFrom) && s.Count >= 1:
                    t.Sender = EnvelopeAddress(s[0]);
                    if (s.Count >= 2 && s[1].Length > 0) t.SenderParameters = MilterEsmtpArguments.ForSender(s[1], t.Dropped);
                    break;
                case P.AddRcpt when Allowed(allowed, P.Actions.AddRcpt) && s.Count >= 1:
                case P.AddRcptPar when Allowed(allowed, P.Actions.AddRcptPar) && s.Count >= 1:
                    var added = EnvelopeAddress(s[0]);
                    t.Recipients.Add(added);
                    if (e.Code == P.AddRcptPar && s.Count >= 2 && s[1].Length > 0)
                        t.AddedParameters[MilterTransaction.Key(added)] = MilterEsmtpArguments.ForRecipient(s[1], t.Dropped);
                    break;
                case P.DelRcpt when Allowed(allowed, P.Actions.DelRcpt) && s.Count >= 1:
                    var gone = EnvelopeAddress(s[0]);
                    t.Recipients.RemoveAll(r => AsciiCase.EqualsIgnoringCase(r, gone));
                    break;
                case P.Quarantine when Allowed(allowed, P.Actions.Quarantine):
                    t.Quarantine = s.Count > 0 ? s[0] : []; break;
                default: throw new MilterProtocolException($"an edit '{(char)e.Code}' not negotiated or malformed");
            }
            t.Edited = true;
        }
        if (body != null) t.Message.ReplaceBody(body.ToArray());
    }

    private static bool Allowed(P.Actions allowed, P.Actions a) => (allowed & a) != 0;

    /// <summary>The name and value after an index.</summary>
    private static bool Two(MilterPacket e, out byte[] name, out byte[] value)
    {
        var s = e.Strings(4);
        name = s.Count > 0 ? s[0] : [];
        value = s.Count > 1 ? s[1] : [];
        return s.Count >= 1 && IsFieldName(name);
    }

    /// <summary>
    /// RFC 5322's field name: printable ASCII but ':'. Anything else (a LF above
    /// all) would end the field early, or the header section, and put the rest
    /// of the name into the message as a line of its own.
    /// </summary>
    private static bool IsFieldName(byte[] name) =>
        name.Length > 0 && Array.TrueForAll(name, b => b is > 32 and < 127 and not (byte)':');

    /// <summary>
    /// A sender or recipient a filter gives, without its angle brackets. A
    /// control byte (CR and LF above all) would go into the queue's envelope and
    /// from there into an RCPT TO line of the next hop, a command of its own.
    /// </summary>
    private static byte[] EnvelopeAddress(byte[] a)
    {
        var address = Unbracket(a);
        if (Array.Exists(address, b => b < 32 || b == 127)) throw new MilterProtocolException("an envelope address with a control character");
        return address;
    }

    /// <summary>An address as a filter gives it, with or without its angle brackets.</summary>
    public static byte[] Unbracket(byte[] a) =>
        a.Length >= 2 && a[0] == (byte)'<' && a[^1] == (byte)'>' ? a[1..^1] : a;
}

/// <summary>The filter said something the protocol does not allow: it is treated as failed.</summary>
public sealed class MilterProtocolException(string message) : Exception(message);
