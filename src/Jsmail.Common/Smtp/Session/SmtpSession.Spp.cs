using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Plugins;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// qmail-spp's hooks (docs/smtp-plugins.md): each event runs its section's
/// plugins one after another as <see cref="SppPluginEffect"/>s, then goes on
/// with the verdict and the address as the plugins left it.
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>The session's qmail-spp state; null when no plugins run (NOSPP, no control/smtpplugins).</summary>
    public SppSession? Spp { get; init; }

    private Func<HookVerdict, byte[], SessionStep>? _afterHook;

    private SessionStep SppConnect(Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Connect(out var v), v, then) : then(HookVerdict.Continue, []);

    private SessionStep SppHelo(byte[] argument, Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Helo(argument, out var v), v, then) : then(HookVerdict.Continue, argument);

    private SessionStep SppMail(byte[] address, Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Mail(address, _out, out var v), v, then) : then(HookVerdict.Continue, address);

    private SessionStep SppRcpt(byte[] address, bool rcptHostsOk, Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Rcpt(address, rcptHostsOk, _out, out var v), v, then) : then(HookVerdict.Continue, address);

    private SessionStep SppData(Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Data(_out, out var v), v, then) : then(HookVerdict.Continue, []);

    private SessionStep SppAuth(byte[] user, string method, Func<HookVerdict, byte[], SessionStep> then) =>
        Spp is { } spp ? Hooked(spp.Auth(user, method, out var v), v, then) : then(HookVerdict.Continue, user);

    /// <summary>A plugin of an <see cref="SppPluginEffect"/> ran.</summary>
    public SessionStep SppPluginDone(ChildResult result) => Settle(SppPluginDoneCore(result)); // a first BDAT chunk's DATA stage may end here

    private SessionStep SppPluginDoneCore(ChildResult result)
    {
        if (PendingEffect is not SppPluginEffect || _afterHook is not { } then || Spp is not { } spp)
            throw new InvalidOperationException("no plugin pending");
        PendingEffect = null;
        foreach (var line in SppSession.Logged(result)) _log($"{spp.Current}: {line}");
        if (result.End == ChildEnd.TimedOut)
            _log($"qmail-spp plugin {spp.Current} timed out after {spp.TimeoutSeconds} s: killed");
        try { return Hooked(spp.Ran(result, _out, out var verdict), verdict, then); }
        catch (Exception e) when (e is ControlReadException or IOException)
        {
            Reply(SmtpReplyId.ControlsUnreadable); // a table the continuation reads cannot be read now
            return CloseWith(1);
        }
    }

    /// <summary>The next plugin as an effect, or the verdict: a refusal's text is already in the output.</summary>
    private SessionStep Hooked(ChildRequest? next, HookVerdict verdict, Func<HookVerdict, byte[], SessionStep> then)
    {
        if (next != null)
        {
            _afterHook = then;
            PendingEffect = new SppPluginEffect(next);
            return SessionStep.Effect;
        }
        _afterHook = null;
        return verdict.Decision switch
        {
            HookDecision.Reject or HookDecision.Defer => SessionStep.Command,
            HookDecision.Disconnect => CloseWith(0),
            _ => then(verdict, Spp?.Address ?? []),
        };
    }

    /// <summary>The extra headers plugins gave for the message that begins now (H).</summary>
    private void SppHeadersInto(IMessageSink sink)
    {
        if (Spp?.StartMessage() is { Length: > 0 } headers) sink.Write(headers);
    }
}
