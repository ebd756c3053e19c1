using System.Text;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Postfix policy delegation (docs/policy.md): at each stage the services of
/// control/policy configured for it are asked in order, each as a
/// <see cref="PolicyEffect"/>, and their verdicts combined as Postfix combines
/// the results of a restriction list: the first to accept or refuse ends it,
/// DEFER_IF_PERMIT and DEFER_IF_REJECT wait for how it ends.
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>A stage's round of questions in progress.</summary>
    private sealed class PolicyRound(PolicyStages stage, Transaction target, byte[]? recipient, Func<SessionStep> then)
    {
        public readonly PolicyStages Stage = stage;
        public readonly Transaction Target = target;
        public readonly byte[]? Recipient = recipient;
        public readonly Func<SessionStep> Then = then;
        public int Next;
        public HookVerdict? DeferIfPermit, DeferIfReject;
        public readonly MessageEdits Edits = new();
    }

    /// <summary>Postfix's smtpd_policy_service_default_action.</summary>
    private static readonly HookVerdict PolicyUnavailable = new(HookDecision.Defer, 451, "4.3.5", "Server configuration problem"u8.ToArray());

    private PolicyRound? _policyRound;
    /// <summary>The reply a CONNECT refusal greeted the client with, given again to its commands.</summary>
    private byte[]? _clientRefusal;
    private string? _instancePrefix;
    private Transaction? _instanceOf;
    private int _instanceCount;

    /// <summary>
    /// Asks the services for <paramref name="stage"/> about transaction <paramref name="t"/>;
    /// <paramref name="then"/> is the command's own outcome when none refuses.
    /// </summary>
    private SessionStep AskPolicy(PolicyStages stage, Transaction t, byte[]? recipient, Func<SessionStep> then)
    {
        if (settings.PolicyClients.Count == 0 || settings.Compat) return then();
        _policyRound = new PolicyRound(stage, t, recipient, then);
        return AskNextPolicy();
    }

    private SessionStep AskNextPolicy()
    {
        var round = _policyRound!;
        var services = settings.PolicyClients;
        while (round.Next < services.Count && (services[round.Next].Service.Stages & round.Stage) == 0) round.Next++;
        if (round.Next == services.Count) return PolicyPassed(round);
        PendingEffect = new PolicyEffect(services[round.Next], PolicyRequest.Build(PolicyFactsFor(round)));
        return SessionStep.Effect;
    }

    /// <summary>The policy service of a <see cref="PolicyEffect"/> answered, or could not.</summary>
    public SessionStep PolicyDone(PolicyAnswer answer) => Settle(PolicyDoneCore(answer)); // a first BDAT chunk's DATA stage may end here

    private SessionStep PolicyDoneCore(PolicyAnswer answer)
    {
        if (PendingEffect is not PolicyEffect effect || _policyRound is not { } round)
            throw new InvalidOperationException("no policy question pending");
        PendingEffect = null;
        round.Next++;
        var name = effect.Client.Service.Name;
        var verdict = answer.Verdict;
        if (verdict == null)
        {
            var fallback = effect.Client.Service.Fallback;
            _log($"policy {name}: {answer.Failure}: default action {fallback.ToString().ToLowerInvariant()}");
            verdict = fallback == PolicyFallback.Dunno ? HookVerdict.Continue : PolicyUnavailable;
        }
        if (verdict.Log is { } line) _log($"policy {name}: {line}");
        Note(round, verdict, name);
        switch (verdict.Decision)
        {
            case HookDecision.Accept: return PolicyPassed(round);
            case HookDecision.DeferIfPermit: round.DeferIfPermit ??= verdict; break;
            case HookDecision.DeferIfReject: round.DeferIfReject ??= verdict; break;
            case HookDecision.Reject: return PolicyRefused(round, round.DeferIfReject ?? verdict);
            case HookDecision.Defer: return PolicyRefused(round, verdict);
            case HookDecision.Disconnect:
                PolicyRefused(round, verdict);
                return CloseWith(1);
        }
        return AskNextPolicy();
    }

    /// <summary>Side effects, whatever the decision they came with; those that do not apply are logged.</summary>
    private void Note(PolicyRound round, HookVerdict verdict, string name)
    {
        if (round.Stage is PolicyStages.Helo or PolicyStages.Connect && (verdict.PrependHeader != null || verdict.Discard || verdict.Hold))
        {
            _log($"policy {name}: PREPEND, DISCARD and HOLD apply to a message, not at {(round.Stage == PolicyStages.Helo ? "HELO" : "CONNECT")}: ignored");
            return;
        }
        if (verdict.Hold) round.Edits.Hold ??= verdict.Text ?? [];
        if (verdict.PrependHeader is { } header)
        {
            if (round.Stage == PolicyStages.EndOfMessage) _log($"policy {name}: PREPEND is not allowed at END-OF-MESSAGE: ignored");
            else round.Edits.Prepend.Add(header);
        }
        if (verdict.Discard) round.Edits.Discard = true;
    }

    /// <summary>No service refused: DEFER_IF_PERMIT now defers; otherwise the edits are kept and the command goes on.</summary>
    private SessionStep PolicyPassed(PolicyRound round)
    {
        if (round.DeferIfPermit is { } defer) return PolicyRefused(round, defer);
        _policyRound = null;
        round.Target.Edits.Prepend.AddRange(round.Edits.Prepend);
        if (round.Edits.Discard) round.Target.Edits.Discard = true;
        if (round.Edits.Hold != null) round.Target.Edits.Hold ??= round.Edits.Hold;
        return round.Then();
    }

    /// <summary>Postfix's reply: the code, the enhanced code, what was refused and the service's text.</summary>
    private SessionStep PolicyRefused(PolicyRound round, HookVerdict verdict)
    {
        _policyRound = null;
        var (what, refused) = round.Stage switch
        {
            PolicyStages.Connect => (ClientNameAndAddress(), "Client host rejected"),
            PolicyStages.Helo => (_helo ?? [], "Helo command rejected"),
            PolicyStages.Mail => (round.Target.Sender, "Sender address rejected"),
            PolicyStages.Rcpt => (round.Recipient ?? [], "Recipient address rejected"),
            PolicyStages.Data => ("DATA"u8.ToArray(), "Data command rejected"),
            _ => ("END-OF-MESSAGE"u8.ToArray(), "End-of-data rejected"),
        };
        if (round.Stage == PolicyStages.Mail) _transaction = new Transaction(); // a refused MAIL starts nothing
        if (round.Stage == PolicyStages.EndOfMessage) AbortMessage();
        var text = new List<byte>(what.Length + verdict.Text!.Length + 32) { (byte)'<' };
        foreach (var b in what) text.Add(SmtpReceived.IsSafe(b) ? b : (byte)'?');
        text.AddRange(">: "u8);
        text.AddRange(Encoding.ASCII.GetBytes(refused));
        text.AddRange(": "u8);
        text.AddRange(verdict.Text);
        var start = _out.Count;
        SmtpReplies.Append(_out, verdict.Code, verdict.Enhanced, text.ToArray(), Enhanced);
        if (round.Stage == PolicyStages.Connect) _clientRefusal = _out.GetRange(start, _out.Count - start).ToArray();
        return SessionStep.Command;
    }

    /// <summary>Postfix's name[address] of the client.</summary>
    private byte[] ClientNameAndAddress() => [.. client.RemoteHost, (byte)'[', .. client.RemoteIp, (byte)']'];

    /// <summary>
    /// The end of DATA once the services had their say: queue the message,
    /// drop it when one said DISCARD, or queue it for the quarantine address
    /// when one said HOLD (the fields on top were written at DATA, or go on
    /// top of the held message now).
    /// </summary>
    private SessionStep Commit(Transaction t, IMessageSink sink)
    {
        _transaction = new Transaction();
        if (!t.Edits.Discard)
        {
            var envelope = t.Envelope();
            var note = t.Edits.Hold is { } reason ? MessageQuarantine.Divert(envelope, reason, settings.Quarantine) : default;
            if (sink is HeldMessageSink held)
            {
                if (note.Note.Header != null) held.Inner.Write(note.Note.Header);
                held.Inner.Write(held.Held);
                sink = held.Inner;
            }
            if (note.Envelope != null)
            {
                envelope = note.Envelope;
                _log($"policy: HOLD: the message is held for {Encoding.ASCII.GetString(settings.Quarantine)}: {Encoding.ASCII.GetString(note.Note.Reason)}");
            }
            PendingEffect = new CommitMessageEffect(envelope, sink);
            return SessionStep.Effect;
        }
        // The client cannot tell: the reply is the one a queued message gets, with this process
        // as "qp" where no queue program was started (server mode commits through a service).
        var pid = sink.Pid > 0 ? sink.Pid : Environment.ProcessId;
        sink.Abort();
        _log("policy: message discarded");
        SmtpReplies.Append(_out, 250, "2.0.0", Encoding.ASCII.GetBytes($"ok {clock()} qp {pid}"), Enhanced);
        return SessionStep.Command;
    }

    /// <summary>Whether a service of control/policy is asked at this stage.</summary>
    private bool PolicyAt(PolicyStages stage)
    {
        if (settings.Compat) return false;
        foreach (var c in settings.PolicyClients) if ((c.Service.Stages & stage) != 0) return true;
        return false;
    }

    /// <summary>The headers services asked for, at the top of the message.</summary>
    private static void WritePrepended(Transaction t)
    {
        foreach (var header in t.Edits.Prepend)
        {
            t.Sink!.Write(header);
            t.Sink.Write("\n"u8);
        }
    }

    private PolicyFacts PolicyFactsFor(PolicyRound round)
    {
        var t = round.Target;
        var afterRcpt = round.Stage is PolicyStages.Data or PolicyStages.EndOfMessage;
        var tlsWords = _inTls && _tlsDescription != null ? _tlsDescription.Split(' ') : [];
        return new PolicyFacts(round.Stage switch
        {
            PolicyStages.Connect => "CONNECT",
            PolicyStages.Helo => _ehlo ? "EHLO" : "HELO",
            PolicyStages.Mail => "MAIL",
            PolicyStages.Rcpt => "RCPT",
            PolicyStages.Data => "DATA",
            _ => "END-OF-MESSAGE",
        })
        {
            ProtocolName = _ehlo ? "ESMTP" : "SMTP",
            HeloName = _helo ?? [],
            Sender = t.Sender,
            Recipient = round.Recipient ?? (afterRcpt && t.Recipients.Count == 1 ? t.Recipients[0] : []),
            RecipientCount = afterRcpt ? t.Recipients.Count : 0,
            ClientAddress = client.RemoteIp,
            ClientName = client.RemoteHost,
            Instance = Instance(t),
            SaslUsername = _authUser ?? [],
            Size = round.Stage == PolicyStages.EndOfMessage ? t.DataBytes : DeclaredSize(t),
            EncryptionProtocol = tlsWords.Length > 0 ? tlsWords[0] : "",
            EncryptionCipher = tlsWords.Length > 1 ? tlsWords[1] : "",
        };
    }

    /// <summary>Postfix's instance: the same for every request about one transaction, another for the next.</summary>
    private string Instance(Transaction t)
    {
        _instancePrefix ??= $"{Environment.ProcessId:x}.{clock():x}.{Random.Shared.Next():x}";
        if (!ReferenceEquals(_instanceOf, t))
        {
            _instanceOf = t;
            _instanceCount++;
        }
        return $"{_instancePrefix}.{_instanceCount}";
    }

    private static ulong DeclaredSize(Transaction t)
    {
        foreach (var p in t.Extension.Sender)
            if (p.Keyword == "SIZE" && p.Value != null && ulong.TryParse(p.Value, out var size)) return size;
        return 0;
    }
}
