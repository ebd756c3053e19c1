namespace Jsmail.Common.Smtp.Hooks;

/// <summary>
/// What filters asked to change about the message of one transaction, kept
/// with it until it is queued: headers for the top of the message,
/// whether it is to be dropped instead of queued, or held.
/// </summary>
public sealed class MessageEdits
{
    /// <summary>Header lines without their line end, in the order they were asked for; written before smtpd's Received line.</summary>
    public List<byte[]> Prepend { get; } = new();

    /// <summary>Accepted with 250 and not queued.</summary>
    public bool Discard { get; set; }

    /// <summary>
    /// Accepted with 250 and kept out of delivery, with this reason (Postfix's
    /// HOLD): queued for the quarantine address (MessageQuarantine). Null: not held.
    /// </summary>
    public byte[]? Hold { get; set; }
}
