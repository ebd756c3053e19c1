namespace Jsmail.Common.Smtp.Hooks;

/// <summary>
/// What an outside filter decided at one stage of the SMTP dialogue, in the
/// vocabulary every hook protocol maps into (plugin-protocols.md §9.3): the
/// Postfix policy client, qmail-spp, milter and native plugin adapters each
/// translate their answers to this, and the session acts on it alone.
/// </summary>
public enum HookDecision
{
    /// <summary>No opinion: the next filter, then the command's own outcome.</summary>
    Continue,
    /// <summary>Accept, and ask no further filter at this stage.</summary>
    Accept,
    /// <summary>Refuse permanently with <see cref="HookVerdict.Code"/> (5xx).</summary>
    Reject,
    /// <summary>Refuse temporarily with <see cref="HookVerdict.Code"/> (4xx).</summary>
    Defer,
    /// <summary>Refuse with <see cref="HookVerdict.Code"/> (421 or 521) and end the connection.</summary>
    Disconnect,
    /// <summary>Postfix's DEFER_IF_PERMIT: defer if the stage would otherwise end in acceptance.</summary>
    DeferIfPermit,
    /// <summary>Postfix's DEFER_IF_REJECT: defer instead if a later filter at this stage rejects.</summary>
    DeferIfReject,
}

/// <summary>
/// One filter's verdict: a decision, the reply it carries (code, enhanced
/// status code, text: null where the session's default applies), and the
/// side effects on the message that go with any decision. A refusal with
/// <see cref="Code"/> 0 means the adapter already wrote its own reply lines
/// into the session's output, as qmail-spp plugins do.
/// </summary>
public sealed record HookVerdict(HookDecision Decision, int Code = 0, string? Enhanced = null, byte[]? Text = null)
{
    public static readonly HookVerdict Continue = new(HookDecision.Continue);

    /// <summary>Also skip the check qmail would make next (badmailfrom at MAIL, rcpthosts at RCPT): qmail-spp's <c>O</c>.</summary>
    public bool SkipBuiltinChecks { get; init; }

    /// <summary>A header line ("Name: value", no line end) to put at the top of the queued message.</summary>
    public byte[]? PrependHeader { get; init; }

    /// <summary>Accept the message but queue nothing.</summary>
    public bool Discard { get; init; }

    /// <summary>Accept the message but keep it out of delivery (Postfix's hold queue).</summary>
    public bool Hold { get; init; }

    /// <summary>A line for the log that changes nothing (Postfix's WARN and INFO, or why an answer was not followed).</summary>
    public string? Log { get; init; }
}
