namespace Jsmail.Inject;

/// <summary>
/// Everything qmail-inject takes from its environment, controls and clock,
/// gathered before the message is read (interfaces §9.2, §9.3). Pure data:
/// tests build it directly.
/// </summary>
public sealed class InjectSettings
{
    // QMAILINJECT letters
    public bool NameComment { get; init; }      // c
    public bool DeleteSender { get; init; }     // s
    public bool DeleteFrom { get; init; }       // f
    public bool DeleteMessageId { get; init; }  // i
    public bool VerpRecipient { get; init; }    // r
    public bool VerpMessage { get; init; }      // m

    /// <summary>From user (QMAILUSER, MAILUSER, USER, LOGNAME, else "anonymous").</summary>
    public byte[] MailUser { get; init; } = "anonymous"u8.ToArray();
    /// <summary>From host (QMAILHOST, MAILHOST), or null for none.</summary>
    public byte[]? MailHost { get; init; }
    /// <summary>Envelope-sender user (QMAILSUSER, else the From user).</summary>
    public byte[] SenderUser { get; init; } = "anonymous"u8.ToArray();
    /// <summary>Envelope-sender host (QMAILSHOST, else the From host).</summary>
    public byte[]? SenderHost { get; init; }
    /// <summary>Personal name (QMAILNAME, MAILNAME, NAME), or null.</summary>
    public byte[]? FullName { get; init; }

    public byte[] IdHost { get; init; } = "idhost"u8.ToArray();
    public required AddressRewriter Rewriter { get; init; }

    /// <summary>The QMAILMFTFILE addresses, or null when there is no such list.</summary>
    public List<byte[]>? MailFollowupTo { get; init; }

    /// <summary>
    /// RFC 6532 (off under JSMAIL_COMPAT=qmail): words and local parts in UTF-8
    /// stay as they are instead of being quoted, and a message that needs
    /// SMTPUTF8 is queued marked for it (<see cref="Jsmail.Common.Message.Utf8Mail"/>).
    /// </summary>
    public bool Utf8 { get; init; }

    public long StartTime { get; init; }
    public int Pid { get; init; }

    /// <summary>The tokens of a control value with its prefix ('@' for defaulthost, '.' for the
    /// domains); a value that does not tokenize is fatal, reported as qmail does.</summary>
    public static List<Token> ControlTokens(byte prefix, ReadOnlySpan<byte> value)
    {
        byte[] text = [prefix, .. value];
        return Token822.Parse(text) ?? throw InjectFatal.ParseLine(text);
    }
}
