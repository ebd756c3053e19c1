using System.Text;

namespace Jsmail.Common.Smtp;

/// <summary>Every fixed reply jsmail-smtpd gives. qmail's own texts are kept byte for byte.</summary>
public enum SmtpReplyId
{
    Rset, Noop, Vrfy, Help, Unimplemented, MailOk, RcptOk, AddressTooLong, MailFirst, RcptFirst,
    BadMailFrom, NotInRcpthosts, QqtFailure, GoAhead, Looping, TooBig, Smtplf, OutOfMemory, Timeout,
    ControlsUnreadable, NoIpAddresses,
    // Beyond qmail: safety and the standards.
    LineTooLong, NulInCommand, CrInCommand, EightBitInCommand, BareCrInData, TooManyRecipients,
    MailSyntax, RcptSyntax, NestedMail, ParameterSyntax, ParameterUnknown, ParameterDuplicate, ParameterValue,
    SizeExceedsLimit, NeedsSmtpUtf8, BadUtf8, NoSuchUser, BadHelo, BadSender, CheckRejected, CheckDeferred,
    CheckUnavailable,
}

public readonly record struct SmtpReply(int Code, string? Enhanced, string Text);

/// <summary>
/// The one table of replies, so that codes, enhanced codes (RFC 2034/3463)
/// and texts stay consistent. A text ending in qmail's <c>(#x.y.z)</c> has
/// that enhanced code; the table gives it for the others.
/// </summary>
public static class SmtpReplies
{
    public static SmtpReply Of(SmtpReplyId id) => id switch
    {
        SmtpReplyId.Rset => new(250, "2.0.0", "flushed"),
        SmtpReplyId.Noop => new(250, "2.0.0", "ok"),
        SmtpReplyId.Vrfy => new(252, "2.0.0", "send some mail, i'll try my best"),
        SmtpReplyId.Help => new(214, "2.0.0", "notqmail home page: https://notqmail.org"),
        SmtpReplyId.Unimplemented => new(502, null, "unimplemented (#5.5.1)"),
        SmtpReplyId.MailOk => new(250, "2.1.0", "ok"),
        SmtpReplyId.RcptOk => new(250, "2.1.5", "ok"),
        SmtpReplyId.AddressTooLong => new(555, null, "syntax error (#5.5.4)"),
        SmtpReplyId.MailFirst => new(503, null, "MAIL first (#5.5.1)"),
        SmtpReplyId.RcptFirst => new(503, null, "RCPT first (#5.5.1)"),
        SmtpReplyId.BadMailFrom => new(553, null, "sorry, your envelope sender is in my badmailfrom list (#5.7.1)"),
        SmtpReplyId.NotInRcpthosts => new(553, null, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),
        SmtpReplyId.QqtFailure => new(451, null, "qqt failure (#4.3.0)"),
        SmtpReplyId.GoAhead => new(354, null, "go ahead"),
        SmtpReplyId.Looping => new(554, null, "too many hops, this message is looping (#5.4.6)"),
        SmtpReplyId.TooBig => new(552, null, "sorry, that message size exceeds my databytes limit (#5.3.4)"),
        SmtpReplyId.Smtplf => new(451, "4.6.0", "See https://cr.yp.to/docs/smtplf.html."),
        SmtpReplyId.OutOfMemory => new(421, null, "out of memory (#4.3.0)"),
        SmtpReplyId.Timeout => new(451, null, "timeout (#4.4.2)"),
        SmtpReplyId.ControlsUnreadable => new(421, null, "unable to read controls (#4.3.0)"),
        SmtpReplyId.NoIpAddresses => new(421, null, "unable to figure out my IP addresses (#4.3.0)"),
        SmtpReplyId.LineTooLong => new(500, null, "line too long (#5.5.2)"),
        SmtpReplyId.NulInCommand => new(500, null, "NUL in command refused (#5.5.2)"),
        SmtpReplyId.CrInCommand => new(500, null, "bare CR in command refused (#5.5.2)"),
        SmtpReplyId.EightBitInCommand => new(500, null, "8-bit byte in command refused (#5.5.2)"),
        SmtpReplyId.BareCrInData => new(451, null, "bare CR in message refused, see RFC 5321 section 2.3.8 (#4.6.0)"),
        SmtpReplyId.TooManyRecipients => new(452, null, "too many recipients (#4.5.3)"),
        SmtpReplyId.MailSyntax => new(501, null, "syntax: MAIL FROM:<address> (#5.5.4)"),
        SmtpReplyId.RcptSyntax => new(501, null, "syntax: RCPT TO:<address> (#5.5.4)"),
        SmtpReplyId.NestedMail => new(503, null, "MAIL already given, RSET first (#5.5.1)"),
        SmtpReplyId.ParameterSyntax => new(501, null, "parameter syntax error (#5.5.4)"),
        SmtpReplyId.ParameterUnknown => new(555, null, "parameter not recognized (#5.5.4)"),
        SmtpReplyId.ParameterDuplicate => new(501, null, "parameter given twice (#5.5.4)"),
        SmtpReplyId.ParameterValue => new(501, null, "bad parameter value (#5.5.4)"),
        SmtpReplyId.SizeExceedsLimit => new(552, null, "sorry, that message size exceeds my databytes limit (#5.3.4)"),
        SmtpReplyId.NeedsSmtpUtf8 => new(553, null, "non-ASCII address needs SMTPUTF8 (#5.6.7)"),
        SmtpReplyId.BadUtf8 => new(553, null, "address is not valid UTF-8 (#5.6.7)"),
        SmtpReplyId.NoSuchUser => new(550, null, "sorry, no mailbox here by that name (#5.1.1)"),
        SmtpReplyId.BadHelo => new(550, null, "sorry, your HELO name is refused here (#5.7.1)"),
        SmtpReplyId.BadSender => new(553, null, "sorry, your envelope sender is refused here (#5.7.1)"),
        SmtpReplyId.CheckRejected => new(550, null, "sorry, refused by local policy (#5.7.1)"),
        SmtpReplyId.CheckDeferred => new(451, null, "try again later (#4.7.1)"),
        SmtpReplyId.CheckUnavailable => new(451, null, "temporary problem checking the address (#4.3.0)"),
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };

    /// <summary>The enhanced code for a reply: the table's, else from a trailing "(#x.y.z)", else the class default.</summary>
    public static string EnhancedFor(int code, string? enhanced, ReadOnlySpan<byte> text)
    {
        if (enhanced != null) return enhanced;
        if (FromText(text) is { } fromText) return fromText;
        return code switch { < 300 => "2.0.0", < 500 => "4.0.0", _ => "5.0.0" };
    }

    /// <summary>x.y.z from a trailing "(#x.y.z)", when the class digit agrees with the text's use.</summary>
    public static string? FromText(ReadOnlySpan<byte> text)
    {
        if (text.Length < 9 || text[^1] != (byte)')') return null;
        var open = text.LastIndexOf("(#"u8);
        if (open < 0) return null;
        var inner = text[(open + 2)..^1];
        return IsEnhanced(inner) ? Encoding.ASCII.GetString(inner) : null;
    }

    /// <summary>class.subject.detail: class 2, 4 or 5; subject 1–3 digits; detail 1–3 digits.</summary>
    public static bool IsEnhanced(ReadOnlySpan<byte> s)
    {
        if (s.Length < 5 || s[0] is not ((byte)'2' or (byte)'4' or (byte)'5') || s[1] != (byte)'.') return false;
        var rest = s[2..];
        var dot = rest.IndexOf((byte)'.');
        if (dot is < 1 or > 3) return false;
        var detail = rest[(dot + 1)..];
        if (detail.Length is < 1 or > 3) return false;
        foreach (var b in rest[..dot]) if (b is < (byte)'0' or > (byte)'9') return false;
        foreach (var b in detail) if (b is < (byte)'0' or > (byte)'9') return false;
        return true;
    }

    /// <summary>
    /// One reply line: <c>code[-| ][enhanced ]text CRLF</c>. The enhanced code is
    /// not repeated when the text already starts with one (a queue filter's own).
    /// </summary>
    public static void Append(List<byte> o, int code, string? enhanced, ReadOnlySpan<byte> text, bool useEnhanced, bool more = false)
    {
        AppendCode(o, code, more);
        if (useEnhanced && code != 354)
        {
            var sp = text.IndexOf((byte)' ');
            if (!(sp > 0 && IsEnhanced(text[..sp])))
            {
                foreach (var c in EnhancedFor(code, enhanced, text)) o.Add((byte)c);
                o.Add((byte)' ');
            }
        }
        o.AddRange(text);
        o.Add((byte)'\r');
        o.Add((byte)'\n');
    }

    public static void Append(List<byte> o, SmtpReplyId id, bool useEnhanced)
    {
        var r = Of(id);
        Append(o, r.Code, r.Enhanced, Encoding.ASCII.GetBytes(r.Text), useEnhanced);
    }

    private static void AppendCode(List<byte> o, int code, bool more)
    {
        o.Add((byte)('0' + code / 100));
        o.Add((byte)('0' + code / 10 % 10));
        o.Add((byte)('0' + code % 10));
        o.Add(more ? (byte)'-' : (byte)' ');
    }
}
