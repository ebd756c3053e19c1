namespace Jsmail.Inject;

/// <summary>The header fields qmail-inject knows by name.</summary>
public enum FieldKind
{
    Unknown, Sender, From, ReplyTo, To, Cc, Bcc, Date, MessageId, Subject,
    ResentSender, ResentFrom, ResentReplyTo, ResentTo, ResentCc, ResentBcc, ResentDate, ResentMessageId,
    ReturnReceiptTo, ErrorsTo, ApparentlyTo, Received, ReturnPath, DeliveredTo, ContentLength,
    ContentType, ContentTransferEncoding, NoticeRequestedUponDeliveryTo, MailFollowupTo,
}

/// <summary>Recognising header fields as qmail's hfield does.</summary>
public static class HeaderField
{
    // Same order as FieldKind, from Sender on.
    private static readonly byte[][] Names =
    [
        "sender"u8.ToArray(), "from"u8.ToArray(), "reply-to"u8.ToArray(), "to"u8.ToArray(), "cc"u8.ToArray(),
        "bcc"u8.ToArray(), "date"u8.ToArray(), "message-id"u8.ToArray(), "subject"u8.ToArray(),
        "resent-sender"u8.ToArray(), "resent-from"u8.ToArray(), "resent-reply-to"u8.ToArray(), "resent-to"u8.ToArray(),
        "resent-cc"u8.ToArray(), "resent-bcc"u8.ToArray(), "resent-date"u8.ToArray(), "resent-message-id"u8.ToArray(),
        "return-receipt-to"u8.ToArray(), "errors-to"u8.ToArray(), "apparently-to"u8.ToArray(), "received"u8.ToArray(),
        "return-path"u8.ToArray(), "delivered-to"u8.ToArray(), "content-length"u8.ToArray(), "content-type"u8.ToArray(),
        "content-transfer-encoding"u8.ToArray(), "notice-requested-upon-delivery-to"u8.ToArray(),
        "mail-followup-to"u8.ToArray(),
    ];

    /// <summary>
    /// The kind of a field: its name in any mix of upper and lower case letters
    /// (a '-' only as '-'), then optional spaces or tabs, then ':'.
    /// </summary>
    public static FieldKind Kind(ReadOnlySpan<byte> field)
    {
        for (var k = 0; k < Names.Length; k++)
            if (Matches(field, Names[k])) return (FieldKind)(k + 1);
        return FieldKind.Unknown;
    }

    private static bool Matches(ReadOnlySpan<byte> s, byte[] name)
    {
        int i;
        for (i = 0; i < name.Length; ++i)
        {
            if (i >= s.Length) return false;
            var ch = name[i];
            if (ch != s[i] && (ch == '-' || ch - 32 != s[i])) return false;
        }
        for (; i < s.Length; ++i)
        {
            if (s[i] == ':') return true;
            if (s[i] != ' ' && s[i] != '\t') return false;
        }
        return false;
    }

    /// <summary>
    /// Whether a line starts a header field: text up to the first ':', less
    /// trailing spaces and tabs, is non-empty and all bytes 33 to 126.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> line)
    {
        var j = line.IndexOf((byte)':');
        if (j < 0) return false;
        while (j > 0 && line[j - 1] is (byte)' ' or (byte)'\t') --j;
        if (j == 0) return false;
        foreach (var ch in line[..j])
            if (ch <= 32 || ch >= 127) return false;
        return true;
    }

    public static bool IsRecipientKind(FieldKind k) => k is FieldKind.To or FieldKind.Cc or FieldKind.Bcc
        or FieldKind.ApparentlyTo or FieldKind.ResentTo or FieldKind.ResentCc or FieldKind.ResentBcc;
}
