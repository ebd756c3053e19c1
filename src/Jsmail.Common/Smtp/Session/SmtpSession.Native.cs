using Jsmail.Common.Envelope;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Plugins.Native;

namespace Jsmail.Common.Smtp.Session;

/// <summary>Run native plugin callbacks (control/plugins) off the driver's loop; resume with <see cref="SmtpSession.NativePluginDone"/>.</summary>
public sealed record NativePluginEffect(NativeCall Call) : SessionEffect;

/// <summary>
/// Native plugins (docs/plugins.md): their hooks at connect, HELO, MAIL, RCPT,
/// DATA and end of data, their MAIL/RCPT parameters and their verbs, each a
/// <see cref="NativePluginEffect"/> whose verdict the session acts on here.
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>The process's native plugins; null when none are loaded (no control/plugins, JSMAIL_COMPAT=qmail).</summary>
    public NativePlugins? Native { get; init; }

    private Func<SessionStep>? _afterNative;
    /// <summary>The facts handed to the pending call: what its plugin asked to change comes back in them.</summary>
    private NativeSessionFacts? _nativeCall;
    private Action? _onNativeRefusal;
    private bool _nativeRefusalCloses;

    private SessionStep NativeHook(NativeAbi.Event e, byte[]? deciding, Func<SessionStep> then, Action? onRefusal = null)
    {
        if (Native is not { } n || !n.Hooks(e)) return then();
        var facts = NativeFacts(deciding, e == NativeAbi.Event.Helo ? NativeCallKind.Helo : NativeCallKind.Hook);
        return NativeEffect(n.Event(e, facts), facts, then, onRefusal, closes: e == NativeAbi.Event.Connect);
    }

    private SessionStep NativeEffect(NativeCall call, NativeSessionFacts facts, Func<SessionStep> then, Action? onRefusal = null, bool closes = false)
    {
        _afterNative = then;
        _nativeCall = facts;
        _onNativeRefusal = onRefusal;
        _nativeRefusalCloses = closes;
        PendingEffect = new NativePluginEffect(call);
        return SessionStep.Effect;
    }

    /// <summary>The callbacks of a <see cref="NativePluginEffect"/> returned, or their deadline passed.</summary>
    public SessionStep NativePluginDone(HookVerdict verdict) => Settle(NativePluginDoneCore(verdict)); // a first BDAT chunk's DATA stage may end here

    private SessionStep NativePluginDoneCore(HookVerdict verdict)
    {
        if (PendingEffect is not NativePluginEffect || _afterNative is not { } then)
            throw new InvalidOperationException("no plugin call pending");
        PendingEffect = null;
        _afterNative = null;
        var call = _nativeCall;
        _nativeCall = null;
        if (verdict.Log is { } line) _log(line);
        // A call past its deadline or broken may have asked for changes; only one that went well has them made.
        var changes = verdict.Log == null ? call?.Changes : null;
        if (call?.Kind == NativeCallKind.Helo && changes != null) _ehloOffered.AddRange(changes.Offers);
        if (verdict.Decision is HookDecision.Continue || (verdict.Decision is HookDecision.Accept && verdict.Code == 0)) return then();
        if (verdict.Decision == HookDecision.Accept && call?.Kind == NativeCallKind.Verb && changes != null
            && (changes.Restart || verdict.Code is >= 200 and < 300)) // a verb succeeded: a refusal changes nothing
        {
            if (SetClientFacts(changes.Facts) is { } ended) return ended;
            if (changes.Restart) return Restart(keepAuth: changes.Facts.ContainsKey(NativeAbi.Fact.AuthUser));
        }
        SmtpReplies.Append(_out, verdict.Code, verdict.Enhanced, verdict.Text ?? [], Enhanced);
        if (verdict.Decision == HookDecision.Accept) return SessionStep.Command; // a verb answered
        _onNativeRefusal?.Invoke();
        return verdict.Decision == HookDecision.Disconnect || _nativeRefusalCloses ? CloseWith(0) : SessionStep.Command;
    }

    /// <summary>A verb no one else knows, when a plugin registered it.</summary>
    private SessionStep? NativeVerb(ReadOnlySpan<byte> verb, ReadOnlySpan<byte> argument)
    {
        if (Native is not { } n || !n.KnowsVerb(verb)) return null;
        var facts = NativeFacts(null, NativeCallKind.Verb);
        return NativeEffect(n.Verb(verb, argument.ToArray(), facts), facts, () => SessionStep.Command);
    }

    /// <summary>The MAIL or RCPT parameters plugins registered, each checked by its plugin before the command goes on.</summary>
    private SessionStep NativeParameters(bool mail, List<EsmtpParameter>? given, Func<SessionStep> then)
    {
        if (Native is not { } n || given == null) return then();
        var mine = given.Where(p => mail ? n.KnowsMailParameter(p.Keyword) : n.KnowsRcptParameter(p.Keyword))
            .Select(p => (p.Keyword, p.Value)).ToList();
        if (mine.Count == 0) return then();
        var facts = NativeFacts(null);
        return NativeEffect(n.Parameters(mail, mine, facts), facts, then);
    }

    /// <summary>Whether a MAIL (or RCPT) keyword the parser does not know was registered by a plugin.</summary>
    private Func<string, bool>? NativeKeywords(bool mail) =>
        Native is { } n ? k => mail ? n.KnowsMailParameter(k) : n.KnowsRcptParameter(k) : null;

    private NativeSessionFacts NativeFacts(byte[]? deciding, NativeCallKind kind = NativeCallKind.Hook) => new()
    {
        Kind = kind,
        Environment = client.ChildEnvironment is { } env ? [.. env] : Jsmail.Common.Os.Libc.EnvironmentEntries(),
        RemotePort = Variables.Get("TCPREMOTEPORT"),
        Protocol = _protocol ?? BaseProtocol,
        RemoteIp = client.RemoteIp,
        RemoteHost = client.RemoteHost,
        Helo = _helo,
        Sender = _transaction.SeenMail || _transaction.Recipients.Count > 0 ? _transaction.Sender : null,
        Recipients = [.. _transaction.Recipients],
        Deciding = deciding,
        Tls = _inTls ? _tlsDescription ?? "" : null,
        AuthUser = _authUser,
        Log = _log,
    };
}
