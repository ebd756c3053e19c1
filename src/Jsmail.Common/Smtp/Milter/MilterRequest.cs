namespace Jsmail.Common.Smtp.Milter;

/// <summary>The SMTP stages a milter hears of, in the order of a session.</summary>
public enum MilterStage { Connect, Helo, Mail, Rcpt, Data, Message }

/// <summary>
/// One stage for the milters: what the command carried and the macros known
/// now (Sendmail's names, e.g. <c>j</c>, <c>{client_addr}</c>). For the
/// message stage, <see cref="Message"/> is the message and envelope the
/// milters may edit.
/// </summary>
/// <param name="Argument">the HELO name, the MAIL or RCPT address; for Connect the client's host name</param>
/// <param name="Parameters">the ESMTP parameters of MAIL or RCPT, each KEYWORD[=value]</param>
public sealed record MilterRequest(MilterStage Stage, byte[] Argument, IReadOnlyList<byte[]> Parameters,
    IReadOnlyDictionary<string, byte[]> Macros, MilterTransaction? Message = null)
{
    /// <summary>For Connect: the client's address and its family ('4', '6', or 'U' for unknown).</summary>
    public byte[] ClientAddress { get; init; } = [];
}

/// <summary>What the milters decided about a stage.</summary>
public enum MilterVerdict
{
    /// <summary>Go on (SMFIR_CONTINUE, or an accept that ends this filter's part).</summary>
    Continue,
    Reject,
    Tempfail,
    /// <summary>Accept and drop the message (SMFIR_DISCARD).</summary>
    Discard,
    /// <summary>421 and close (SMFIR_SHUTDOWN).</summary>
    Shutdown,
}

/// <param name="Reply">the filter's own reply (SMFIR_REPLYCODE: "NNN x.y.z text"), or null for the standard text</param>
public sealed record MilterOutcome(MilterVerdict Verdict, byte[]? Reply = null)
{
    public static readonly MilterOutcome Continue = new(MilterVerdict.Continue);
    public static readonly MilterOutcome Tempfail = new(MilterVerdict.Tempfail);
}

/// <summary>A message and its envelope at end of data, as the milters leave it.</summary>
public sealed class MilterTransaction(MilterMessage message, byte[] sender, List<byte[]> recipients)
{
    public MilterMessage Message { get; private set; } = message;
    public byte[] Sender { get; set; } = sender;
    /// <summary>
    /// The DSN parameters (RET, ENVID) of SMFIR_CHGFROM's ESMTP arguments, in
    /// place of the client's; null when no filter gave any.
    /// </summary>
    public List<Envelope.EsmtpParameter>? SenderParameters { get; set; }
    /// <summary>The recipients in order; deleted ones are removed, added ones appended.</summary>
    public List<byte[]> Recipients { get; } = recipients;
    /// <summary>The DSN parameters (NOTIFY, ORCPT) SMFIR_ADDRCPT_PAR gave an added recipient, by its address.</summary>
    public Dictionary<string, List<Envelope.EsmtpParameter>> AddedParameters { get; private set; } = new(StringComparer.Ordinal);
    /// <summary>ESMTP arguments a filter gave that the envelope does not carry: dropped, each a line for the log.</summary>
    public List<string> Dropped { get; private set; } = new();
    /// <summary>SMFIR_QUARANTINE's reason: the message is kept out of delivery.</summary>
    public byte[]? Quarantine { get; set; }
    /// <summary>A filter changed the message or the envelope.</summary>
    public bool Edited { get; set; }

    /// <summary>The key of <see cref="AddedParameters"/>: the address's bytes as they are.</summary>
    public static string Key(byte[] address) => System.Text.Encoding.Latin1.GetString(address);

    /// <summary>A copy one filter's edits go into, kept only when all of them applied.</summary>
    public MilterTransaction Copy() =>
        new(MilterMessage.Parse(Message.Serialize()), Sender, new List<byte[]>(Recipients))
        {
            Quarantine = Quarantine, Edited = Edited, SenderParameters = SenderParameters?.ToList(),
            AddedParameters = new(AddedParameters, StringComparer.Ordinal), Dropped = Dropped.ToList(),
        };

    public void Adopt(MilterTransaction edited)
    {
        Message = edited.Message;
        Sender = edited.Sender;
        SenderParameters = edited.SenderParameters;
        Recipients.Clear();
        Recipients.AddRange(edited.Recipients);
        AddedParameters = edited.AddedParameters;
        Dropped = edited.Dropped;
        Quarantine = edited.Quarantine;
        Edited = edited.Edited;
    }
}
