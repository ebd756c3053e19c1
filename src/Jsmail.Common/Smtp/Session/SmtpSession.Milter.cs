using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Smtp.Milter;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// The milters of control/milters (docs/milter.md): each stage is asked as a
/// <see cref="MilterEffect"/> after jsmail's own checks accepted it, and the
/// message they may edit is held until its end. Nothing here runs without
/// control/milters, nor under JSMAIL_COMPAT=qmail (which reads none).
/// </summary>
public sealed partial class SmtpSession
{
    private MilterChain? _milters;
    private bool _milterConnected, _milterDiscard;
    /// <summary>The milters refused the connection itself: every later stage gets this answer.</summary>
    private MilterOutcome? _milterRefusal;
    private Func<MilterOutcome, SessionStep>? _afterMilter;
    private byte[] _milterQueueId = [];
    /// <summary>A message the milters are looking at: still the session's, dropped if the session ends meanwhile.</summary>
    private HeldMessageSink? _milterHeld;
    private int _milterMessages;

    private bool MiltersOn => settings.Milters.Count > 0;

    /// <summary>
    /// The connect stage, when the client connects, as Postfix sends it: a
    /// refusal is the greeting (and answers every later command but QUIT);
    /// a shutdown is a 421 that ends the connection.
    /// </summary>
    private SessionStep MilterConnect(Func<SessionStep> greet)
    {
        if (!MiltersOn || _milterConnected) return greet();
        _milterConnected = true;
        var connect = new MilterRequest(MilterStage.Connect, ClientName(), [], MilterMacroValues(MilterStage.Connect, null, null))
            { ClientAddress = KnownAddress ? client.RemoteIp : [] }; // an unknown one goes as the family 'U'
        return AskMilters(connect, o =>
        {
            if (o.Verdict is MilterVerdict.Continue or MilterVerdict.Discard) return greet(); // no message to discard yet
            _milterRefusal = o;
            _log("milter refused the connection");
            return MilterRefused(o);
        });
    }

    /// <summary>
    /// The milters' say on a stage jsmail accepted: <paramref name="accepted"/>
    /// goes on when they all continue; otherwise their refusal is the reply.
    /// The connect stage went first, at the greeting; a session that began in
    /// another process (jsmail-smtpd after STARTTLS's handover) sends it at its
    /// first stage.
    /// </summary>
    private SessionStep Filtered(MilterStage stage, byte[] argument, IReadOnlyList<byte[]>? parameters, Func<SessionStep> accepted)
    {
        if (!MiltersOn) return accepted();
        if (_milterRefusal is { } refused) return MilterRefused(refused);
        if (!_milterConnected) return MilterConnect(() => Filtered(stage, argument, parameters, accepted));
        if (stage == MilterStage.Mail)
        {
            _milterDiscard = false;
            _milterQueueId = Encoding.ASCII.GetBytes($"{clock():X}{Environment.ProcessId:X}{++_milterMessages:X}");
        }
        var request = new MilterRequest(stage, argument, parameters ?? [], MilterMacroValues(stage, argument, _transaction));
        return AskMilters(request, o =>
        {
            if (o.Verdict == MilterVerdict.Discard) { _milterDiscard = true; return accepted(); }
            return o.Verdict == MilterVerdict.Continue ? accepted() : MilterRefused(o);
        });
    }

    private SessionStep AskMilters(MilterRequest request, Func<MilterOutcome, SessionStep> then)
    {
        _milters ??= new MilterChain(settings.Milters, _log);
        _afterMilter = then;
        PendingEffect = new MilterEffect(_milters, request);
        return SessionStep.Effect;
    }

    /// <summary>The milters of a <see cref="MilterEffect"/> answered (or their defaults did).</summary>
    public SessionStep MilterDone(MilterOutcome outcome) => Settle(MilterDoneCore(outcome)); // a first BDAT chunk's DATA stage may end here

    private SessionStep MilterDoneCore(MilterOutcome outcome)
    {
        if (PendingEffect is not MilterEffect || _afterMilter is not { } then) throw new InvalidOperationException("no milter pending");
        PendingEffect = null;
        _afterMilter = null;
        return then(outcome);
    }

    /// <summary>A refusal in the filter's own words, or in Postfix's when it gave none.</summary>
    private SessionStep MilterRefused(MilterOutcome o)
    {
        if (o.Verdict == MilterVerdict.Shutdown)
        {
            SmtpReplies.Append(_out, 421, "4.7.0", "Service unavailable - closing connection"u8, Enhanced);
            return CloseWith(1);
        }
        if (o.Reply is { Length: >= 3 } own)
        {
            var code = (own[0] - '0') * 100 + (own[1] - '0') * 10 + (own[2] - '0');
            var text = own.Length > 4 ? own.AsSpan(4) : "Command rejected"u8;
            SmtpReplies.Append(_out, code, code >= 500 ? "5.7.1" : "4.7.1", text, Enhanced);
        }
        else if (o.Verdict == MilterVerdict.Reject) SmtpReplies.Append(_out, 550, "5.7.1", "Command rejected"u8, Enhanced);
        else SmtpReplies.Append(_out, 451, "4.7.1", "Service unavailable - try again later"u8, Enhanced);
        return SessionStep.Command;
    }

    /// <summary>The final dot of a held message: the milters see it whole, then what they leave is committed.</summary>
    private SessionStep FilterMessage(Transaction t, HeldMessageSink held)
    {
        var message = new MilterTransaction(MilterMessage.Parse(held.Held), t.Sender, new List<byte[]>(t.Recipients));
        var request = new MilterRequest(MilterStage.Message, [], [], MilterMacroValues(MilterStage.Message, null, t), message);
        _milterHeld = held;
        return AskMilters(request, o => MessageFiltered(o, t, held, message));
    }

    private SessionStep MessageFiltered(MilterOutcome o, Transaction t, HeldMessageSink held, MilterTransaction edited)
    {
        _milterHeld = null;
        if (o.Verdict is MilterVerdict.Reject or MilterVerdict.Tempfail or MilterVerdict.Shutdown)
        {
            held.Abort();
            return MilterRefused(o);
        }
        if (o.Verdict == MilterVerdict.Discard || _milterDiscard || t.Edits.Discard || edited.Recipients.Count == 0)
        {
            held.Abort();
            _log(edited.Recipients.Count == 0 ? "milter removed every recipient: message discarded" : "milter discarded the message");
            SmtpReplies.Append(_out, 250, "2.0.0", Encoding.ASCII.GetBytes($"ok {clock()} discarded"), Enhanced);
            return SessionStep.Command;
        }
        foreach (var line in edited.Dropped) _log("milter: " + line);
        var envelope = t.Envelope();
        var bytes = edited.Edited ? edited.Message.Serialize() : held.Held.ToArray();
        if (edited.Edited) envelope = MilterEnvelope(envelope, edited);
        if ((edited.Quarantine ?? t.Edits.Hold) is { } reason)
        {
            (envelope, var note) = MessageQuarantine.Divert(envelope, reason, settings.Quarantine);
            _log($"{(edited.Quarantine != null ? "milter quarantined" : "policy: HOLD:")} the message: {Encoding.ASCII.GetString(note.Reason)}");
            held.Inner.Write(note.Header);
        }
        held.Inner.Write(bytes);
        PendingEffect = new CommitMessageEffect(envelope, held.Inner);
        return SessionStep.Effect;
    }

    /// <summary>
    /// The envelope as the milters changed it: their sender, and their
    /// recipients; a recipient that was given keeps its ESMTP parameters, an
    /// added one has those SMFIR_ADDRCPT_PAR gave it. SMFIR_CHGFROM's RET and
    /// ENVID replace the client's; its other MAIL parameters stay.
    /// </summary>
    private static QueueEnvelope MilterEnvelope(QueueEnvelope given, MilterTransaction edited)
    {
        var extension = new EnvelopeExtension();
        var old = given.Extension ?? new EnvelopeExtension();
        foreach (var p in old.Sender)
            if (edited.SenderParameters == null || p.Keyword is not ("RET" or "ENVID")) extension.Sender.Add(p);
        if (edited.SenderParameters != null) extension.Sender.AddRange(edited.SenderParameters);
        var taken = new bool[given.Recipients.Count];
        for (var i = 0; i < edited.Recipients.Count; i++)
        {
            var found = false;
            for (var j = 0; j < given.Recipients.Count && !found; j++)
            {
                if (taken[j] || !given.Recipients[j].AsSpan().SequenceEqual(edited.Recipients[i])) continue;
                taken[j] = found = true;
                if (old.ParametersOf(j).Count > 0) extension.ForRecipient(i).AddRange(old.ParametersOf(j));
            }
            if (!found && edited.AddedParameters.TryGetValue(MilterTransaction.Key(edited.Recipients[i]), out var added) && added.Count > 0)
                extension.ForRecipient(i).AddRange(added);
        }
        return new QueueEnvelope(edited.Sender, edited.Recipients, extension.IsEmpty ? null : extension);
    }

    /// <summary>Whether the client's address is known: not so without TCPREMOTEIP, nor after XCLIENT ADDR=[UNAVAILABLE].</summary>
    private bool KnownAddress => KnownAddressOf(client);

    /// <summary>The client's name as milters know it: its host name, else its address in brackets, as Postfix gives it.</summary>
    private byte[] ClientName() => client.RemoteHost.AsSpan().SequenceEqual("unknown"u8)
        ? [(byte)'[', .. client.RemoteIp, (byte)']'] : client.RemoteHost;

    /// <summary>The macro values known now; each stage sends the ones its set names.</summary>
    /// <param name="argument">the address of MAIL or RCPT</param>
    /// <param name="t">the transaction the stage belongs to</param>
    private Dictionary<string, byte[]> MilterMacroValues(MilterStage stage, byte[]? argument, Transaction? t)
    {
        var me = settings.Greeting.AsSpan();
        var sp = me.IndexOf((byte)' ');
        var m = new Dictionary<string, byte[]>
        {
            ["j"] = (sp < 0 ? me : me[..sp]).ToArray(),
            ["{daemon_name}"] = "jsmail-smtpd"u8.ToArray(),
            ["v"] = "jsmail"u8.ToArray(),
            ["{client_addr}"] = client.RemoteIp,
            ["{client_name}"] = ClientName(),
            ["{client_ptr}"] = client.RemoteHost,
            ["_"] = [.. client.RemoteHost, .. " ["u8, .. client.RemoteIp, (byte)']'],
        };
        if (_inTls && _tlsDescription is { } tls)
        {
            var parts = tls.Split(' ');
            m["{tls_version}"] = Encoding.ASCII.GetBytes(parts[0]);
            if (parts.Length > 1) m["{cipher}"] = Encoding.ASCII.GetBytes(parts[1]);
        }
        if (_authUser is { } user)
        {
            m["{auth_authen}"] = user;
            m["{auth_type}"] = "PLAIN"u8.ToArray();
        }
        if (_milterQueueId.Length > 0) m["i"] = _milterQueueId;
        if (stage == MilterStage.Mail && argument != null) m["{mail_addr}"] = argument;
        else if (t != null && (t.SeenMail || t.Sink != null || stage == MilterStage.Message)) m["{mail_addr}"] = t.Sender;
        if (stage == MilterStage.Rcpt && argument != null) m["{rcpt_addr}"] = argument;
        return m;
    }

    /// <summary>The ESMTP parameters as milters get them: KEYWORD or KEYWORD=value.</summary>
    private static List<byte[]> MilterParameters(IEnumerable<EsmtpParameter>? list)
    {
        var o = new List<byte[]>();
        if (list == null) return o;
        foreach (var p in list)
            o.Add(p.Value == null ? Encoding.ASCII.GetBytes(p.Keyword) : [.. Encoding.ASCII.GetBytes(p.Keyword), (byte)'=', .. p.Value]);
        return o;
    }

    /// <summary>The session is over: the milters hear QUIT and their sockets close.</summary>
    private void CloseMilters()
    {
        _milterHeld?.Abort();
        _milterHeld = null;
        _milters?.Dispose();
        _milters = null;
    }
}
