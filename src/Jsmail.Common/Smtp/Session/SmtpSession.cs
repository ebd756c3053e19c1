using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Envelope;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// One SMTP conversation as a pure state machine over whole command lines and
/// chunks of message data, writing replies into <see cref="Output"/>. It does
/// no I/O and makes no blocking call: what is slow (the check program,
/// checkpassword, the queue's commit) it asks of its driver as a
/// <see cref="SessionEffect"/>, and goes on when the driver hands back the
/// result. The per-connection program (<see cref="SmtpConnection"/>) and
/// server mode both drive it.
/// </summary>
/// <param name="openSink">a sink for the next message, or null when none can be had (qmail's "qqt failure")</param>
/// <param name="tls">whether STARTTLS can be answered now, or null when control/servercert.pem is missing</param>
/// <param name="auth">the checkpassword program for AUTH, or null</param>
/// <param name="log">one line for the log, without the program's name and the client's address</param>
public sealed partial class SmtpSession(SmtpdSettings settings, SmtpClientInfo client, Func<IMessageSink?> openSink,
    Func<long> clock, IStartTlsCheck? tls = null, Checkpassword? auth = null, Action<string>? log = null)
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
    private Transaction _transaction = new();
    /// <summary>MAIL commands accepted so far, for control/maxmail (RFC 9422 MAILMAX).</summary>
    private int _messages;

    public int ExitCode { get; private set; }

    /// <summary>What the driver must do after <see cref="SessionStep.Effect"/>; null otherwise.</summary>
    public SessionEffect? PendingEffect { get; private set; }

    private bool Enhanced => settings.Has(Standards.EnhancedStatusCodes);
    private bool Strict => settings.Has(Standards.StrictSyntax);

    /// <summary>Replies not yet sent. The driver sends and clears them.</summary>
    public List<byte> Output => _out;

    /// <summary>
    /// The 220, unless a [connection] plugin, a policy service asked at CONNECT,
    /// a native plugin's connect hook or a milter's connect stage said otherwise
    /// (their refusal is then the greeting). May ask for effects first.
    /// </summary>
    public SessionStep Greet() => ConnectionStages();

    /// <summary>
    /// The steps a client passes through before its greeting: at connect, and
    /// again for the client a plugin's verb (XCLIENT) set, so that every check
    /// applies to it as if it had connected itself.
    /// </summary>
    private SessionStep ConnectionStages() => SppConnect((_, _) => AskPolicy(PolicyStages.Connect, _transaction, null,
        () => NativeHook(Plugins.Native.NativeAbi.Event.Connect, null, () => MilterConnect(() =>
    {
        _out.AddRange("220 "u8);
        _out.AddRange(settings.Greeting);
        _out.AddRange(" ESMTP\r\n"u8);
        return SessionStep.Command;
    }))));

    public SessionStep LineTooLong()
    {
        RefuseWhilePending("a line too long");
        return _authStep != null ? AuthLineTooLong() : Reply(SmtpReplyId.LineTooLong);
    }

    /// <summary>
    /// The client was silent too long. Allowed at any time, an effect pending
    /// included (a server's whole-session deadline): the effect is forgotten,
    /// and its result must not be fed back; a message being committed is the
    /// driver's and stays as it is.
    /// </summary>
    public SessionStep Timeout()
    {
        DropPendingEffect();
        ForgetChunk();
        AbortMessage();
        Reply(SmtpReplyId.Timeout);
        return CloseWith(1);
    }

    /// <param name="line">one command line without its LF</param>
    public SessionStep Command(ReadOnlySpan<byte> line)
    {
        RefuseWhilePending("a command");
        if (_authStep != null) return AuthResponse(line);
        switch (SmtpCommand.Check(line, allowEightBit: true))
        {
            case SmtpLineFault.Nul: return Reply(SmtpReplyId.NulInCommand);
            case SmtpLineFault.BareCr: return Reply(SmtpReplyId.CrInCommand);
        }
        var cmd = SmtpCommand.Parse(line);
        // A policy service refused the client at CONNECT: every command but these gets its reply again.
        if (_clientRefusal is { } refusal && cmd.Kind is not (SmtpVerb.Quit or SmtpVerb.Noop or SmtpVerb.Rset or SmtpVerb.Help))
        {
            _out.AddRange(refusal);
            return SessionStep.Command;
        }
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
                SmtpVerb.Bdat when ChunkingOn => Bdat(cmd.Argument),
                _ => NativeVerb(cmd.Verb, cmd.Argument) ?? Reply(SmtpReplyId.Unimplemented),
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
        var helo = _heloKept ?? arg.ToArray(); // a HELO a plugin set (XCLIENT) counts over the one the proxy sends next
        _heloKept = null;
        _ehloOffered.Clear();
        return SppHelo(helo, (_, _) =>
        {
            AbortTransaction();
            _helo = helo;
            _ehlo = ehlo;
            return Check(CheckStage.Helo, null, null, HeloChecked);
        });
    }

    private SessionStep HeloChecked(CheckResult check)
    {
        _heloRefused = check.Verdict != CheckVerdict.Accept;
        if (_heloRefused) return Refuse(check, SmtpReplyId.BadHelo);
        return AskPolicy(PolicyStages.Helo, _transaction, null,
            () => Filtered(Milter.MilterStage.Helo, _helo!, null, () => NativeHook(Plugins.Native.NativeAbi.Event.Helo, null, HeloAccepted)));
    }

    private SessionStep HeloAccepted()
    {
        var lines = new List<string>();
        if (_ehlo)
        {
            if (settings.Has(Standards.Pipelining)) lines.Add("PIPELINING");
            if (settings.Has(Standards.EightBitMime)) lines.Add("8BITMIME");
            if (settings.Has(Standards.Size)) lines.Add(DataBytes > 0 ? $"SIZE {DataBytes}" : "SIZE");
            if (settings.Has(Standards.EnhancedStatusCodes)) lines.Add("ENHANCEDSTATUSCODES");
            if (settings.Has(Standards.SmtpUtf8)) lines.Add("SMTPUTF8");
            if (settings.Has(Standards.Dsn)) lines.Add("DSN");
            if (ChunkingOn) lines.Add("CHUNKING");
            if (ChunkingOn && settings.BinaryMimeOffered) lines.Add("BINARYMIME");
            if (LimitsLine() is { } limits) lines.Add(limits);
            if (StartTlsOffered) lines.Add("STARTTLS");
            if (RequireTlsOffered) lines.Add("REQUIRETLS");
            if (AuthOffered) lines.Add("AUTH PLAIN LOGIN");
            if (Native is { } native) lines.AddRange(native.EhloLines);
            lines.AddRange(_ehloOffered);
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

    /// <summary>
    /// RFC 8689 §2: REQUIRETLS is a promise to relay the message only over
    /// verified TLS, so it is offered only once this session is itself under
    /// TLS, and only when parameters are read at all (STRICTSYNTAX).
    /// </summary>
    private bool RequireTlsOffered => _inTls && !settings.Compat && settings.Has(Standards.RequireTls | Standards.StrictSyntax);

    /// <summary>RFC 9422: the limits this session applies, those that are set; null when none is, or LIMITS is off.</summary>
    private string? LimitsLine()
    {
        if (settings.Compat || !settings.Has(Standards.Limits)) return null;
        var limits = new List<string>(2);
        if (settings.MaxRecipients > 0) limits.Add($"RCPTMAX={settings.MaxRecipients}");
        if (settings.MaxMessages > 0) limits.Add($"MAILMAX={settings.MaxMessages}");
        return limits.Count == 0 ? null : "LIMITS " + string.Join(' ', limits);
    }

    private SessionStep Mail(ReadOnlySpan<byte> arg)
    {
        // RFC 6409 §4.3: a submission server takes mail only from a client that authenticated.
        if (client.Submission && !settings.Compat && _authUser == null)
            return Reply(530, "authentication required (#5.7.0)");
        if (Strict && (_transaction.SeenMail || _transaction.Chunking)) return Reply(SmtpReplyId.NestedMail);
        if (settings.MaxMessages > 0 && _messages >= settings.MaxMessages) return Reply(451, "too many messages in this session (#4.5.3)");
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
            var pf = EsmtpParameters.ParseMail(rest, settings.Features, out mp, NativeKeywords(mail: true));
            if (pf != EsmtpParameterFault.None) return ParameterFault(pf);
            if (NonAscii(address, mp!.Utf8) is { } bad) return Reply(bad);
            if (mp.Size is { } size && DataBytes > 0 && size > DataBytes)
                return Reply(SmtpReplyId.SizeExceedsLimit);
            // RFC 8689 §2: REQUIRETLS is only ever given within TLS. It names no reply for a client that gives it
            // outside; RFC 3207 §4 names one for a command that needs TLS first: 530, with 5.7.0.
            if (mp.RequireTls && !_inTls) return Reply(530, "must issue a STARTTLS command first: REQUIRETLS needs TLS (#5.7.0)");
        }
        if (_heloRefused) return Reply(SmtpReplyId.BadHelo);
        return NativeParameters(true, mp?.List,
            () => SppMail(address, (hook, from) => Check(CheckStage.Mail, from, null, check => MailChecked(check, from, mp, hook))));
    }

    private SessionStep MailChecked(CheckResult check, byte[] address, MailParameters? mp, HookVerdict hook)
    {
        if (check.Verdict != CheckVerdict.Accept) return Refuse(check, SmtpReplyId.BadSender);
        return Filtered(Milter.MilterStage.Mail, address, MilterParameters(mp?.List), () => MailAccepted(address, mp, hook));
    }

    private SessionStep MailAccepted(byte[] address, MailParameters? mp, HookVerdict hook)
    {
        var t = new Transaction
        {
            SeenMail = true, SenderBarred = !hook.SkipBuiltinChecks && BadMailFrom(address), Sender = address, SenderUtf8 = mp?.Utf8 ?? false,
            Binary = mp?.Binary ?? false,
        };
        AbortMessage(); // a message begun by BDAT and never finished
        _messages++;
        if (mp != null)
            foreach (var p in mp.List) t.Extension.Sender.Add(p with { Keyword = p.Keyword.ToUpperInvariant() });
        _transaction = t;
        return AskPolicy(PolicyStages.Mail, t, null, () => NativeHook(Plugins.Native.NativeAbi.Event.Mail, null,
            () => Reply(SmtpReplyId.MailOk), onRefusal: () => _transaction = new Transaction()));
    }

    private SessionStep Rcpt(ReadOnlySpan<byte> arg)
    {
        var t = _transaction;
        if (!t.SeenMail) return Reply(SmtpReplyId.MailFirst);
        if (!ReadPath(arg, "TO:"u8, SmtpReplyId.RcptSyntax, out var address, out var rest, out var fault))
            return fault;
        List<EsmtpParameter>? parameters = null;
        if (Strict)
        {
            var pf = EsmtpParameters.ParseRcpt(rest, settings.Features, t.SenderUtf8, out parameters, NativeKeywords(mail: false));
            if (pf != EsmtpParameterFault.None) return ParameterFault(pf);
            if (NonAscii(address, t.SenderUtf8) is { } bad) return Reply(bad);
            if (address.Length == 0) return Reply(SmtpReplyId.RcptSyntax); // RFC 5321: a forward-path is never null
        }
        if (t.SenderBarred) return Reply(SmtpReplyId.BadMailFrom);
        if (settings.MaxRecipients > 0 && t.Recipients.Count >= settings.MaxRecipients)
            return Reply(SmtpReplyId.TooManyRecipients);
        var allowed = client.RelayClient != null || _authUser != null || RecipientAllowed(address);
        return NativeParameters(false, parameters,
            () => SppRcpt(address, allowed, (hook, given) => RcptHooked(hook, given, allowed, parameters)));
    }

    /// <param name="given">the address as the client (or a plugin's C) gave it, before RELAYCLIENT's suffix</param>
    private SessionStep RcptHooked(HookVerdict hook, byte[] given, bool allowed, List<EsmtpParameter>? parameters)
    {
        var address = given;
        if (client.RelayClient is { } suffix) address = [.. given, .. suffix];
        else if (!allowed && !hook.SkipBuiltinChecks) return Reply(SmtpReplyId.NotInRcpthosts);
        return Check(CheckStage.Rcpt, _transaction.Sender, given, check => RcptChecked(check, address, parameters));
    }

    private SessionStep RcptChecked(CheckResult check, byte[] address, List<EsmtpParameter>? parameters)
    {
        if (check.Verdict != CheckVerdict.Accept) return Refuse(check, SmtpReplyId.NoSuchUser);
        return AskPolicy(PolicyStages.Rcpt, _transaction, address,
            () => Filtered(Milter.MilterStage.Rcpt, address, MilterParameters(parameters),
                () => NativeHook(Plugins.Native.NativeAbi.Event.Rcpt, address, () => RcptAccepted(address, parameters))));
    }

    private SessionStep RcptAccepted(byte[] address, List<EsmtpParameter>? parameters)
    {
        var t = _transaction;
        if (parameters is { Count: > 0 })
        {
            var list = t.Extension.ForRecipient(t.Recipients.Count);
            foreach (var p in parameters) list.Add(p with { Keyword = p.Keyword.ToUpperInvariant() });
        }
        t.Recipients.Add(address);
        Spp?.RecipientAccepted();
        return Reply(SmtpReplyId.RcptOk);
    }

    private SessionStep Rset()
    {
        Spp?.Rset();
        AbortTransaction();
        return Reply(SmtpReplyId.Rset);
    }

    private SessionStep Quit()
    {
        AbortMessage();
        _out.AddRange("221 "u8);
        if (Enhanced) _out.AddRange("2.0.0 "u8);
        _out.AddRange(settings.Greeting);
        _out.AddRange("\r\n"u8);
        return CloseWith(0);
    }

    private SessionStep Reply(SmtpReplyId id)
    {
        SmtpReplies.Append(_out, id, Enhanced);
        return SessionStep.Command;
    }

    private SessionStep Reply(int code, string text, string? enhanced = null)
    {
        SmtpReplies.Append(_out, code, enhanced, Encoding.ASCII.GetBytes(text), Enhanced);
        return SessionStep.Command;
    }

    /// <summary>Input while an effect is pending would run ahead of the effect's result: a driver's bug, never the client's.</summary>
    private void RefuseWhilePending(string what)
    {
        if (PendingEffect != null) throw new InvalidOperationException($"{what} while an effect is pending");
    }

    /// <summary>Forgets the pending effect and what was to follow it, so that no late result can resume the session.</summary>
    private void DropPendingEffect()
    {
        PendingEffect = null;
        _afterCheck = null;
        _afterMilter = null;
        _afterHook = null;
        _policyRound = null;
        _pendingUser = null;
        if (_authInput != null) Array.Clear(_authInput);
        _authInput = null;
    }

    private SessionStep CloseWith(int code)
    {
        AbortMessage(); // a message begun by BDAT: never half-queued (one being committed is no longer the session's)
        CloseMilters();
        ExitCode = code;
        return SessionStep.Close;
    }
}
