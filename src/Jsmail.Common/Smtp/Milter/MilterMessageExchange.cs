using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// The message stage with one filter: its header fields, the end of headers,
/// the body in chunks, and the end of message, whose reply brings the edits.
/// One filter's edits are kept only when all of them applied and its decision
/// came: a filter that fails half-way leaves the message as it was.
/// </summary>
internal static class MilterMessageExchange
{
    /// <summary>The filter's decision, or null when it accepted the message before its end (no edits then).</summary>
    public static async Task<MilterOutcome?> RunAsync(MilterConnection c, MilterRequest r, CancellationToken cancel)
    {
        var t = r.Message ?? throw new InvalidOperationException("the message stage without a message");
        var leadingSpace = c.Has(P.Steps.HeaderLeadingSpace);
        if (!c.Has(P.Steps.NoHeaders))
        {
            foreach (var field in t.Message.Fields)
            {
                var header = new MilterPacketBuilder(P.Header).String(field.Name).String(MilterMessage.ValueOf(field, leadingSpace)).Build();
                if (await StepAsync(c, header, c.Has(P.Steps.NoReplyHeader), cancel) is { } decided) return decided.Outcome;
            }
        }
        if (!c.Has(P.Steps.NoEoh))
        {
            await SendMacrosAsync(c, P.EndOfHeaders, MilterMacros.EndOfHeadersStage, r.Macros, cancel);
            if (await StepAsync(c, new MilterPacket(P.EndOfHeaders, []), c.Has(P.Steps.NoReplyEoh), cancel) is { } decided)
                return decided.Outcome;
        }
        if (!c.Has(P.Steps.NoBody))
        {
            var body = MilterText.ToCrlf(t.Message.Body);
            for (var at = 0; at < body.Length; at += P.MaxChunk)
            {
                var chunk = new MilterPacket(P.Body, body[at..Math.Min(body.Length, at + P.MaxChunk)]);
                var decided = await StepAsync(c, chunk, c.Has(P.Steps.NoReplyBody), cancel, skipAllowed: true);
                if (decided is { Skip: true }) break;
                if (decided is { } d) return d.Outcome;
            }
        }
        await SendMacrosAsync(c, P.EndOfBody, MilterMacros.SymListStage(MilterStage.Message)!.Value, r.Macros, cancel);
        await c.SendAsync(new MilterPacket(P.EndOfBody, []), cancel);
        var edits = new List<MilterPacket>();
        while (true)
        {
            var reply = await c.ReadAsync(c.Spec.ContentTimeout, cancel);
            if (MilterReplies.Decision(reply, out _) is not { } outcome)
            {
                if (reply.Code == P.Skip) throw new MilterProtocolException("skip at end of message");
                edits.Add(reply);
                continue;
            }
            if (outcome.Verdict is MilterVerdict.Continue or MilterVerdict.Discard && edits.Count > 0)
            {
                var trial = t.Copy();
                MilterReplies.Apply(edits, trial, c.Actions, leadingSpace);
                t.Adopt(trial);
            }
            return outcome;
        }
    }

    private readonly record struct Decided(MilterOutcome? Outcome, bool Skip);

    /// <summary>
    /// One packet before the end of message and its reply: null to go on;
    /// else the decision (a null outcome: accepted, nothing more to send), or
    /// a skip of the rest of the body.
    /// </summary>
    private static async Task<Decided?> StepAsync(MilterConnection c, MilterPacket packet, bool noReply, CancellationToken cancel,
        bool skipAllowed = false)
    {
        await c.SendAsync(packet, cancel);
        if (noReply) return null;
        var reply = await c.ReadAsync(c.Spec.CommandTimeout, cancel);
        if (skipAllowed && reply.Code == P.Skip) return new Decided(null, true);
        var outcome = MilterReplies.Decision(reply, out var accepted)
            ?? throw new MilterProtocolException($"reply '{(char)reply.Code}' to '{(char)packet.Code}'");
        if (accepted) return new Decided(null, false);
        return outcome.Verdict == MilterVerdict.Continue ? null : new Decided(outcome, false);
    }

    /// <summary>The stage's macros (the filter's own list, else Postfix's), when any has a value.</summary>
    public static async Task SendMacrosAsync(MilterConnection c, byte command, int symListStage,
        IReadOnlyDictionary<string, byte[]> values, CancellationToken cancel)
    {
        var names = c.SymbolLists.TryGetValue(symListStage, out var own) ? own : MilterMacros.Defaults(symListStage);
        if (MilterMacros.Packet(command, names, values) is { } packet) await c.SendAsync(packet, cancel);
    }
}
