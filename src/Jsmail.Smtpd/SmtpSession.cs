using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp;

namespace Jsmail.Smtpd;

public enum SessionStep
{
    /// <summary>Read the next command line.</summary>
    Command,
    /// <summary>Message data follows: feed it to <see cref="SmtpSession.Data"/>. Replies so far must be sent first.</summary>
    Data,
    /// <summary>Send what is pending, then end the connection with <see cref="SmtpSession.ExitCode"/>.</summary>
    Close,
    /// <summary>
    /// Send what is pending (the 220), drop every byte already read, do the TLS
    /// handshake and report it with <see cref="SmtpSession.TlsStarted"/>.
    /// </summary>
    StartTls,
}

/// <summary>
/// One SMTP conversation as a state machine over whole command lines and
/// chunks of message data, writing replies into a buffer. It does no I/O of
/// its own, so the per-connection program and a server mode can both drive it.
/// </summary>
/// <param name="tls">how STARTTLS is done, or null when control/servercert.pem is missing</param>
/// <param name="auth">the checkpassword program for AUTH, or null</param>
/// <param name="log">one line for the log, without the program's name and the client's address</param>
public sealed partial class SmtpSession(SmtpdSettings settings, SmtpClientInfo client, Func<IMessageQueue?> openQueue,
    Func<long> clock, ITlsUpgrade? tls = null, Checkpassword? auth = null, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    public const int MaxHops = 100;
    /// <summary>
    /// RFC 5321 §4.5.3.1.4 allows 512 octets, and lets extensions add to it
    /// (SIZE 26, ENVID 100, ORCPT 500, AUTH 500): a round 1024 covers every
    /// command jsmail-smtpd understands with room to spare.
    /// </summary>
    public const int MaxCommandLine = 1024;

    private readonly List<byte> _out = new(512);
    private byte[]? _helo;
    private bool _heloRefused, _ehlo;
    private bool _seenMail, _senderBarred;
    private byte[] _sender = [];
    private bool _senderUtf8;
    private readonly List<byte[]> _recipients = new();
    private EnvelopeExtension _extension = new();

    private IMessageQueue? _queue;
    private SmtpDataDecoder? _decoder;
    private SmtpHopCounter? _hops;
    private ulong _dataBytes;
    private bool _overflow;
    private byte[] _decoded = GC.AllocateUninitializedArray<byte>(SmtpDataDecoder.MaxOutput(16384)); // only written bytes are read

    public int ExitCode { get; private set; }

    private bool Enhanced => settings.Has(Standards.EnhancedStatusCodes);
    private bool Strict => settings.Has(Standards.StrictSyntax);

    /// <summary>Replies not yet sent. The driver sends and clears them.</summary>
    public List<byte> Output => _out;

    public void Greet()
    {
        _out.AddRange("220 "u8);
        _out.AddRange(settings.Greeting);
        _out.AddRange(" ESMTP\r\n"u8);
    }

    /// <summary>The client went away: a message in progress is not queued.</summary>
    public void Hangup() => AbortMessage();

    public SessionStep LineTooLong() => _authStep != null ? AuthLineTooLong() : Reply(SmtpReplyId.LineTooLong);

    public SessionStep Timeout()
    {
        AbortMessage();
        Reply(SmtpReplyId.Timeout);
        return CloseWith(1);
    }

    /// <param name="line">one command line without its LF</param>
    public SessionStep Command(ReadOnlySpan<byte> line)
    {
        if (_authStep != null) return AuthResponse(line);
        switch (SmtpCommand.Check(line, allowEightBit: true))
        {
            case SmtpLineFault.Nul: return Reply(SmtpReplyId.NulInCommand);
            case SmtpLineFault.BareCr: return Reply(SmtpReplyId.CrInCommand);
        }
        var cmd = SmtpCommand.Parse(line);
        try
        {
            return cmd.Kind switch
            {
                SmtpVerb.Helo => Helo(cmd.Argument, ehlo: false),
                SmtpVerb.Ehlo => Helo(cmd.Argument, ehlo: true),
                SmtpVerb.Mail => Mail(cmd.Argument),
                SmtpVerb.Rcpt => Rcpt(cmd.Argument),
                SmtpVerb.Data => Data(),
                SmtpVerb.Rset => Rset(),
                SmtpVerb.Noop => Reply(SmtpReplyId.Noop),
                SmtpVerb.Vrfy => Reply(SmtpReplyId.Vrfy),
                SmtpVerb.Help => Reply(SmtpReplyId.Help),
                SmtpVerb.Quit => Quit(),
                SmtpVerb.Starttls => StartTls(cmd.Argument),
                SmtpVerb.Auth => Auth(cmd.Argument),
                _ => Reply(SmtpReplyId.Unimplemented),
            };
        }
        catch (Exception e) when (e is ControlReadException or IOException)
        {
            Reply(SmtpReplyId.ControlsUnreadable); // a table that cannot be read now: qmail's die_control
            return CloseWith(1);
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            Reply(SmtpReplyId.NoIpAddresses);
            return CloseWith(1);
        }
    }

    private SessionStep Helo(ReadOnlySpan<byte> arg, bool ehlo)
    {
        ResetTransaction();
        _helo = arg.ToArray();
        _ehlo = ehlo;
        var check = settings.Checks.Check(CheckStage.Helo, _helo, null, null);
        _heloRefused = check.Verdict != CheckVerdict.Accept;
        if (_heloRefused) return Refuse(check, SmtpReplyId.BadHelo);

        var lines = new List<string>();
        if (ehlo)
        {
            if (settings.Has(Standards.Pipelining)) lines.Add("PIPELINING");
            if (settings.Has(Standards.EightBitMime)) lines.Add("8BITMIME");
            if (settings.Has(Standards.Size)) lines.Add(settings.DataBytes > 0 ? $"SIZE {settings.DataBytes}" : "SIZE");
            if (settings.Has(Standards.EnhancedStatusCodes)) lines.Add("ENHANCEDSTATUSCODES");
            if (settings.Has(Standards.SmtpUtf8)) lines.Add("SMTPUTF8");
            if (settings.Has(Standards.Dsn)) lines.Add("DSN");
            if (StartTlsOffered) lines.Add("STARTTLS");
            if (AuthOffered) lines.Add("AUTH PLAIN LOGIN");
        }
        _out.AddRange(lines.Count > 0 ? "250-"u8 : "250 "u8);
        _out.AddRange(settings.Greeting);
        _out.AddRange("\r\n"u8);
        for (var i = 0; i < lines.Count; i++)
        {
            _out.AddRange(i == lines.Count - 1 ? "250 "u8 : "250-"u8);
            _out.AddRange(Encoding.ASCII.GetBytes(lines[i]));
            _out.AddRange("\r\n"u8);
        }
        return SessionStep.Command;
    }

    private SessionStep Mail(ReadOnlySpan<byte> arg)
    {
        // RFC 6409 §4.3: a submission server takes mail only from a client that authenticated.
        if (client.Submission && !settings.Compat && _authUser == null)
            return Reply(530, "authentication required (#5.7.0)");
        if (Strict && _seenMail) return Reply(SmtpReplyId.NestedMail);
        if (!ReadPath(arg, "FROM:"u8, SmtpReplyId.MailSyntax, out var address, out var rest, out var fault))
            return fault;
        MailParameters? mp = null;
        if (Strict)
        {
            if (AuthConfigured)
            {
                // RFC 4954 §5: AUTH= is accepted and, since jsmail passes no such trust on, not kept.
                var af = SmtpAuthCodec.TakeMailAuth(rest, out var withoutAuth, out _);
                if (af != EsmtpParameterFault.None) return ParameterFault(af);
                rest = withoutAuth;
            }
            var pf = EsmtpParameters.ParseMail(rest, settings.Features, out mp);
            if (pf != EsmtpParameterFault.None) return ParameterFault(pf);
            if (NonAscii(address, mp!.Utf8) is { } bad) return Reply(bad);
            if (mp.Size is { } size && settings.DataBytes > 0 && size > settings.DataBytes)
                return Reply(SmtpReplyId.SizeExceedsLimit);
        }
        if (_heloRefused) return Reply(SmtpReplyId.BadHelo);
        var check = settings.Checks.Check(CheckStage.Mail, _helo, address, null);
        if (check.Verdict != CheckVerdict.Accept) return Refuse(check, SmtpReplyId.BadSender);

        _senderBarred = BadMailFrom(address);
        _seenMail = true;
        _recipients.Clear();
        _sender = address;
        _senderUtf8 = mp?.Utf8 ?? false;
        _extension = new EnvelopeExtension();
        if (mp != null)
            foreach (var p in mp.List) _extension.Sender.Add(p with { Keyword = p.Keyword.ToUpperInvariant() });
        return Reply(SmtpReplyId.MailOk);
    }

    private SessionStep Rcpt(ReadOnlySpan<byte> arg)
    {
        if (!_seenMail) return Reply(SmtpReplyId.MailFirst);
        if (!ReadPath(arg, "TO:"u8, SmtpReplyId.RcptSyntax, out var address, out var rest, out var fault))
            return fault;
        List<EsmtpParameter>? parameters = null;
        if (Strict)
        {
            var pf = EsmtpParameters.ParseRcpt(rest, settings.Features, _senderUtf8, out parameters);
            if (pf != EsmtpParameterFault.None) return ParameterFault(pf);
            if (NonAscii(address, _senderUtf8) is { } bad) return Reply(bad);
            if (address.Length == 0) return Reply(SmtpReplyId.RcptSyntax); // RFC 5321: a forward-path is never null
        }
        if (_senderBarred) return Reply(SmtpReplyId.BadMailFrom);
        if (settings.MaxRecipients > 0 && _recipients.Count >= settings.MaxRecipients)
            return Reply(SmtpReplyId.TooManyRecipients);
        var given = address;
        if (client.RelayClient is { } suffix) address = [.. address, .. suffix];
        else if (_authUser == null && !RecipientAllowed(address)) return Reply(SmtpReplyId.NotInRcpthosts);
        var check = settings.Checks.Check(CheckStage.Rcpt, _helo, _sender, given);
        if (check.Verdict != CheckVerdict.Accept) return Refuse(check, SmtpReplyId.NoSuchUser);

        if (parameters is { Count: > 0 })
        {
            var list = _extension.ForRecipient(_recipients.Count);
            foreach (var p in parameters) list.Add(p with { Keyword = p.Keyword.ToUpperInvariant() });
        }
        _recipients.Add(address);
        return Reply(SmtpReplyId.RcptOk);
    }

    /// <summary>The path of MAIL or RCPT as qmail reads it, with RFC 5321's keyword required when strict.</summary>
    private bool ReadPath(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> keyword, SmtpReplyId syntax,
        out byte[] address, out ReadOnlySpan<byte> rest, out SessionStep fault)
    {
        address = [];
        rest = default;
        fault = SessionStep.Command;
        if (Strict)
        {
            if (SmtpCommand.AfterKeyword(arg, keyword) is not { } start) { fault = Reply(syntax); return false; }
            arg = arg[start..];
        }
        var path = SmtpPath.Parse(arg);
        if (Strict && !path.Terminated) { fault = Reply(syntax); return false; }
        address = LocalIpHost(path.Address);
        if (address.Length > SmtpPath.MaxAddress) { fault = Reply(SmtpReplyId.AddressTooLong); return false; }
        rest = arg[path.ParametersStart..];
        return true;
    }

    private byte[] LocalIpHost(byte[] address)
    {
        if (settings.LocalIpHost is not { } liphost) return address;
        if (SmtpPath.TrailingIpLiteral(address, out var at) is not { } ip || !LocalIps.Contains(ip)) return address;
        return [.. address.AsSpan(0, at + 1), .. liphost];
    }

    private static SmtpReplyId? NonAscii(byte[] address, bool utf8)
    {
        if (System.Text.Ascii.IsValid(address)) return null;
        if (!utf8) return SmtpReplyId.NeedsSmtpUtf8;
        return System.Text.Unicode.Utf8.IsValid(address) ? null : SmtpReplyId.BadUtf8;
    }

    private SessionStep ParameterFault(EsmtpParameterFault f) => Reply(f switch
    {
        EsmtpParameterFault.Unknown => SmtpReplyId.ParameterUnknown,
        EsmtpParameterFault.Duplicate => SmtpReplyId.ParameterDuplicate,
        EsmtpParameterFault.BadValue => SmtpReplyId.ParameterValue,
        _ => SmtpReplyId.ParameterSyntax,
    });

    private bool BadMailFrom(byte[] address)
    {
        if (settings.BadMailFrom.Count == 0) return false;
        if (settings.BadMailFrom.Contains(address)) return true;
        var at = Array.LastIndexOf(address, (byte)'@');
        return at >= 0 && settings.BadMailFrom.Contains(address.AsSpan(at));
    }

    /// <summary>
    /// qmail's rcpthosts test (§8.6) — except that with no control/rcpthosts
    /// jsmail-smtpd relays for nobody (BCP 30) where qmail accepts every domain.
    /// </summary>
    private bool RecipientAllowed(byte[] address)
    {
        var at = Array.LastIndexOf(address, (byte)'@');
        if (at < 0) return true;
        if (settings.RcptHosts is not { } hosts) return false;
        var domain = AsciiCase.ToLower(address.AsSpan(at + 1));
        if (hosts.ContainsDomainOrSuffix(domain)) return true;
        if (settings.MoreRcptHosts is not { } cdb) return false;
        for (var i = 0; i < domain.Length; i++)
            if ((i == 0 || domain[i] == (byte)'.') && cdb.TryFind(domain.AsSpan(i), out _)) return true;
        return false;
    }

    private SessionStep Data()
    {
        if (!_seenMail) return Reply(SmtpReplyId.MailFirst);
        if (_recipients.Count == 0) return Reply(SmtpReplyId.RcptFirst);
        _seenMail = false;
        _queue = openQueue();
        if (_queue == null) return Reply(SmtpReplyId.QqtFailure);
        Reply(SmtpReplyId.GoAhead);
        _decoder = new SmtpDataDecoder(allowBareCr: !settings.Has(Standards.RefuseBareCr));
        _hops = new SmtpHopCounter();
        _dataBytes = 0;
        _overflow = false;
        _queue.Write(SmtpReceived.Build(client.RemoteHost, _helo, client.RemoteInfo, client.RemoteIp,
            client.LocalHost, ReceivedProtocol(), clock()));
        return SessionStep.Data;
    }

    /// <summary>Message data as it arrives. consumed says how much of it belonged to the message.</summary>
    public SessionStep Data(ReadOnlySpan<byte> chunk, out int consumed)
    {
        consumed = 0;
        while (consumed < chunk.Length)
        {
            var piece = chunk[consumed..];
            if (piece.Length > 16384) piece = piece[..16384];
            var status = _decoder!.Decode(piece, _decoded, out var used, out var written);
            consumed += used;
            Deliver(_decoded.AsSpan(0, written));
            switch (status)
            {
                case SmtpDataStatus.End: return EndOfData();
                case SmtpDataStatus.BareLf:
                    AbortMessage();
                    Reply(SmtpReplyId.Smtplf);
                    return CloseWith(1);
                case SmtpDataStatus.BareCr:
                    AbortMessage();
                    Reply(SmtpReplyId.BareCrInData);
                    return CloseWith(1);
            }
        }
        return SessionStep.Data;
    }

    private void Deliver(ReadOnlySpan<byte> decoded)
    {
        if (decoded.IsEmpty) return;
        _hops!.Feed(decoded);
        if (_overflow) return;
        if (settings.DataBytes > 0 && _dataBytes + (ulong)decoded.Length > settings.DataBytes)
        {
            _overflow = true; // the rest is read and dropped; nothing is queued
            return;
        }
        _dataBytes += (ulong)decoded.Length;
        _queue!.Write(decoded);
    }

    private SessionStep EndOfData()
    {
        var queue = _queue!;
        _queue = null;
        _decoder = null;
        if (_hops!.Hops >= MaxHops || _overflow)
        {
            queue.Abort();
            ResetTransaction();
            return Reply(_hops.Hops >= MaxHops ? SmtpReplyId.Looping : SmtpReplyId.TooBig);
        }
        var result = queue.Close(new QueueEnvelope(_sender, _recipients.ToList(), _extension.IsEmpty ? null : _extension));
        ResetTransaction();
        if (result.Success)
        {
            var text = Encoding.ASCII.GetBytes($"ok {clock()} qp {queue.Pid}");
            SmtpReplies.Append(_out, 250, "2.0.0", text, Enhanced);
        }
        else
        {
            var text = QueueText(result);
            SmtpReplies.Append(_out, result.Permanent ? 554 : 451,
                SmtpReplies.FromText(text) ?? (result.Permanent ? "5.3.0" : "4.3.0"), text, Enhanced);
        }
        return SessionStep.Command;
    }

    /// <summary>The queue's text without its class letter; a filter's own text could hold CR or LF.</summary>
    private static byte[] QueueText(QueueResult result)
    {
        var text = result.Message.ToArray();
        for (var i = 0; i < text.Length; i++) if (text[i] is 0 or (byte)'\r' or (byte)'\n') text[i] = (byte)' ';
        return text;
    }

    private void AbortMessage()
    {
        _queue?.Abort();
        _queue = null;
        _decoder = null;
    }

    private SessionStep Rset()
    {
        ResetTransaction();
        return Reply(SmtpReplyId.Rset);
    }

    private SessionStep Quit()
    {
        _out.AddRange("221 "u8);
        if (Enhanced) _out.AddRange("2.0.0 "u8);
        _out.AddRange(settings.Greeting);
        _out.AddRange("\r\n"u8);
        return CloseWith(0);
    }

    private void ResetTransaction()
    {
        _seenMail = false;
        _recipients.Clear();
        _extension = new EnvelopeExtension();
        _senderUtf8 = false;
    }

    private SessionStep Refuse(CheckResult check, SmtpReplyId rejected)
    {
        var id = check.Verdict switch
        {
            CheckVerdict.Reject => rejected,
            CheckVerdict.Defer => SmtpReplyId.CheckDeferred,
            _ => SmtpReplyId.CheckUnavailable,
        };
        var r = SmtpReplies.Of(id);
        if (check.Text is { } text) SmtpReplies.Append(_out, r.Code, SmtpReplies.EnhancedFor(r.Code, r.Enhanced, Encoding.ASCII.GetBytes(r.Text)), text, Enhanced);
        else SmtpReplies.Append(_out, id, Enhanced);
        return SessionStep.Command;
    }

    private SessionStep Reply(SmtpReplyId id)
    {
        SmtpReplies.Append(_out, id, Enhanced);
        return SessionStep.Command;
    }

    private SessionStep CloseWith(int code)
    {
        ExitCode = code;
        return SessionStep.Close;
    }
}
