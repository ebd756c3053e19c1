namespace Jsmail.Common.Smtp.Plugins;

/// <summary>What a hook decided about one SMTP event (plugin-protocols.md §9.3).</summary>
public enum HookDecision
{
    /// <summary>No opinion: the next hook, then jsmail-smtpd's own checks, decide.</summary>
    Continue,
    /// <summary>Accepted as far as hooks go: the remaining hooks of this event are skipped.</summary>
    Accept,
    /// <summary>The command is refused; the reply says whether for good (5xx) or for now (4xx).</summary>
    Reject,
    /// <summary>The connection is ended, after the reply if there is one.</summary>
    Disconnect,
}

/// <summary>
/// The one verdict every hook adapter (qmail-spp programs, a policy server, a
/// milter) maps its own vocabulary into, so that the session handles hooks in
/// one way. Side effects an adapter has (headers, a changed address, variables)
/// are kept by the adapter and asked for where the session needs them.
/// </summary>
/// <param name="SkipBuiltinChecks">
/// also skip the check qmail would make next (badmailfrom at MAIL, rcpthosts
/// at RCPT): qmail-spp's <c>O</c>
/// </param>
/// <param name="Reply">
/// whole reply lines (CRLF included) for the session to send; null when the
/// adapter wrote its text into the output itself, as qmail-spp does
/// </param>
public readonly record struct HookVerdict(HookDecision Decision, bool SkipBuiltinChecks = false, byte[]? Reply = null)
{
    public static readonly HookVerdict Continue = new(HookDecision.Continue);
}
