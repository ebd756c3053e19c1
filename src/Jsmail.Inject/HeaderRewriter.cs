using System.Globalization;
using System.Text;
using Jsmail.Common.Message;

namespace Jsmail.Inject;

/// <summary>
/// qmail-inject's header work (interfaces §9.4–§9.7), pure: header fields go in
/// one at a time, in order; then <see cref="Finish"/> gives the header to print
/// and the envelope is known. Throws <see cref="InjectFatal"/> where qmail-inject dies.
/// </summary>
public sealed class HeaderRewriter(InjectSettings settings, byte[]? envelopeSender)
{
    private readonly List<byte[]> _saved = [];
    private readonly List<byte[]> _headerRecipients = [];  // To, Cc, Bcc, Apparently-To
    private readonly List<byte[]> _resentRecipients = [];  // Resent-To, -Cc, -Bcc
    private readonly List<byte[]> _toCc = [];              // for Mail-Followup-To
    private readonly HashSet<FieldKind> _seen = [];

    /// <summary>The envelope sender: -f, else the first Return-Path address, else the default (after Finish).</summary>
    public byte[]? Sender { get; private set; } = envelopeSender;

    public bool Resent { get; private set; }

    /// <summary>The recipients taken from the header: Resent- fields for a resent message, else To, Cc, Bcc, Apparently-To.</summary>
    public IReadOnlyList<byte[]> HeaderRecipients => Resent ? _resentRecipients : _headerRecipients;

    /// <summary>One header field, continuation lines included, ending in LF.</summary>
    public void Field(byte[] field)
    {
        var kind = HeaderField.Kind(field);
        if (settings.DeleteFrom && kind == FieldKind.From) return;
        if (settings.DeleteMessageId && kind == FieldKind.MessageId) return;
        if (settings.DeleteSender && kind == FieldKind.ReturnPath) return;

        if (kind != FieldKind.Unknown) _seen.Add(kind);
        else if (!HeaderField.IsValid(field))
            throw InjectFatal.Of(InjectFatal.Permanent, [.. "invalid header field: "u8, .. field]);

        Action<List<Token>>? rewrite = kind switch
        {
            FieldKind.To or FieldKind.Cc => a => { Qualify(a); Append(a, _headerRecipients); Append(a, _toCc); },
            FieldKind.Bcc or FieldKind.ApparentlyTo => a => { Qualify(a); Append(a, _headerRecipients); },
            FieldKind.ResentTo or FieldKind.ResentCc or FieldKind.ResentBcc => a => { Qualify(a); Append(a, _resentRecipients); },
            FieldKind.ReturnPath => a => { Qualify(a); SetReturn(a); },
            FieldKind.Sender or FieldKind.From or FieldKind.ReplyTo or FieldKind.ReturnReceiptTo or FieldKind.ErrorsTo
                or FieldKind.ResentSender or FieldKind.ResentFrom or FieldKind.ResentReplyTo => Qualify,
            _ => null,
        };
        if (rewrite != null)
        {
            // notqmail passes a recipient field it cannot parse through unchanged; any other is fatal.
            var mayFail = HeaderField.IsRecipientKind(kind);
            var rewritten = Token822.Parse(field, settings.Utf8) is { } tokens ? AddressList.Rewrite(tokens, rewrite) : null;
            if (rewritten != null) field = Token822.Unparse(rewritten);
            else if (!mayFail) throw InjectFatal.ParseLine(field);
        }

        if (kind is FieldKind.Bcc or FieldKind.ResentBcc or FieldKind.ReturnPath or FieldKind.ContentLength) return;
        _saved.Add(field);
    }

    private void Qualify(List<Token> reversedAddress) => settings.Rewriter.Rewrite(reversedAddress);

    private static void Append(List<Token> reversedAddress, List<byte[]> list) => list.Add(Unquoted(reversedAddress));

    private static byte[] Unquoted(List<Token> reversedAddress)
    {
        var forward = new List<Token>(reversedAddress);
        forward.Reverse();
        return Token822.Unquote(forward);
    }

    private void SetReturn(List<Token> reversedAddress)
    {
        if (Sender != null) return;
        var s = Unquoted(reversedAddress);
        Sender = settings.VerpRecipient ? [.. s, .. "-@[]"u8] : s;
    }

    /// <summary>
    /// Ends the header: fixes the sender, then returns what is printed before the
    /// body: the Return-Path line when <paramref name="printReturnPath"/> (-n),
    /// the added fields, then the original fields as rewritten.
    /// </summary>
    public byte[] Finish(bool printReturnPath)
    {
        Resent = _seen.Overlaps([FieldKind.ResentSender, FieldKind.ResentFrom, FieldKind.ResentReplyTo, FieldKind.ResentTo,
            FieldKind.ResentCc, FieldKind.ResentBcc, FieldKind.ResentDate, FieldKind.ResentMessageId]);
        if (Sender == null) DefaultReturnPath();

        var o = new List<byte>(1024);
        if (printReturnPath)
        {
            o.AddRange("Return-Path: <"u8);
            o.AddRange(AddressQuoting.Quote(CString(Sender!), settings.Utf8));
            o.AddRange(">\n"u8);
        }
        var prefix = Resent ? "Resent-"u8.ToArray() : [];
        if (!_seen.Contains(Resent ? FieldKind.ResentDate : FieldKind.Date))
            o.AddRange([.. prefix, .. "Date: "u8, .. Rfc822Date.Format(settings.StartTime), (byte)'\n']);
        if (!_seen.Contains(Resent ? FieldKind.ResentMessageId : FieldKind.MessageId))
            o.AddRange([.. prefix, .. MessageId()]);
        if (!_seen.Contains(Resent ? FieldKind.ResentFrom : FieldKind.From))
            o.AddRange([.. prefix, .. DefaultFrom()]);
        if (!_seen.Contains(Resent ? FieldKind.ResentTo : FieldKind.To) && !_seen.Contains(Resent ? FieldKind.ResentCc : FieldKind.Cc))
            o.AddRange([.. prefix, .. "Cc: recipient list not shown: ;\n"u8]);
        if (!Resent) MailFollowupTo(o);
        foreach (var f in _saved) o.AddRange(f);
        return o.ToArray();
    }

    /// <summary>"Message-ID: &lt;YYYYMMDDHHMMSS.pid.qmail@idhost&gt;" and LF.</summary>
    private byte[] MessageId()
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(settings.StartTime).UtcDateTime;
        var stamp = string.Create(CultureInfo.InvariantCulture,
            $"Message-ID: <{t.Year}{t.Month:D2}{t.Day:D2}{t.Hour:D2}{t.Minute:D2}{t.Second:D2}.{settings.Pid}.qmail@");
        return [.. Encoding.ASCII.GetBytes(stamp), .. settings.IdHost, .. ">\n"u8];
    }

    /// <summary>From: "name" &lt;user@host&gt; (or user@host (name) with 'c'), built as tokens,
    /// printed, read back and qualified like any sender field.</summary>
    private byte[] DefaultFrom()
    {
        var name = settings.FullName;
        var df = new List<Token> { new(TokenType.Atom, "From"u8.ToArray()), Token.Special(TokenType.Colon) };
        if (name != null && !settings.NameComment)
        {
            df.Add(new Token(TokenType.Quote, CString(name)));
            df.Add(Token.Special(TokenType.Left));
        }
        var user = CString(settings.MailUser);
        df.Add(new Token(AddressQuoting.NeedsQuoting(user, settings.Utf8) ? TokenType.Quote : TokenType.Atom, user));
        if (settings.MailHost != null)
        {
            df.Add(Token.Special(TokenType.At));
            df.Add(new Token(TokenType.Atom, CString(settings.MailHost)));
        }
        if (name != null && !settings.NameComment) df.Add(Token.Special(TokenType.Right));
        if (name != null && settings.NameComment) df.Add(new Token(TokenType.Comment, CString(name)));
        return Reparse(Token822.Unparse(df), Qualify);
    }

    /// <summary>The default sender QMAILSUSER@QMAILSHOST, with -time.pid ('m') and '-' ('r') on the user.</summary>
    private void DefaultReturnPath()
    {
        var user = new List<byte>(CString(settings.SenderUser));
        if (settings.VerpMessage)
            user.AddRange(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"-{settings.StartTime}.{settings.Pid}")));
        if (settings.VerpRecipient) user.Add((byte)'-');
        var drp = new List<Token>
        {
            new(TokenType.Atom, "Return-Path"u8.ToArray()), Token.Special(TokenType.Colon), new(TokenType.Quote, user.ToArray()),
        };
        if (settings.SenderHost != null)
        {
            drp.Add(Token.Special(TokenType.At));
            drp.Add(new Token(TokenType.Atom, CString(settings.SenderHost)));
        }
        Reparse(Token822.Unparse(drp), a => { Qualify(a); SetReturn(a); });
    }

    private byte[] Reparse(byte[] printed, Action<List<Token>> rewrite)
    {
        var tokens = Token822.Parse(printed, settings.Utf8) ?? throw InjectFatal.ParseLine(printed);
        var list = AddressList.Rewrite(tokens, rewrite) ?? throw InjectFatal.ParseLine(printed);
        return Token822.Unparse(list);
    }

    /// <summary>Mail-Followup-To when QMAILMFTFILE lists one of the To/Cc addresses and the message has none.</summary>
    private void MailFollowupTo(List<byte> o)
    {
        var lists = settings.MailFollowupTo;
        if (lists == null || _seen.Contains(FieldKind.MailFollowupTo)) return;
        if (!_toCc.Exists(a => lists.Exists(l => Common.Control.AsciiCaseInsensitive.Equals(l, a)))) return;
        o.AddRange("Mail-Followup-To: "u8);
        for (var i = _toCc.Count - 1; i >= 0; i--)
        {
            o.AddRange(AddressQuoting.Quote(CString(_toCc[i]), settings.Utf8));
            if (i > 0) o.AddRange(",\n  "u8);
        }
        o.Add((byte)'\n');
    }

    /// <summary>What a C string holds: everything before the first NUL.</summary>
    public static byte[] CString(byte[] s)
    {
        var nul = Array.IndexOf(s, (byte)0);
        return nul < 0 ? s : s[..nul];
    }
}
