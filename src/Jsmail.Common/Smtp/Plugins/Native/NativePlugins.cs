using System.Runtime.InteropServices;
using System.Text;
using Jsmail.Common.Smtp.Hooks;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>
/// The plugins of control/plugins, in order, and the one way calls into them
/// are made: on a thread of the pool, never the caller's (so server mode's
/// event loop never waits on a plugin), each call with the deadline of
/// control/plugintimeout. A call past it is abandoned, not killed (a thread
/// cannot be): it answers 451 4.3.0 and leaves a line for the log.
/// </summary>
public sealed unsafe class NativePlugins(IReadOnlyList<NativePlugin> plugins, int timeoutSeconds)
{
    public IReadOnlyList<NativePlugin> All => plugins;
    public TimeSpan Deadline { get; } = TimeSpan.FromSeconds(timeoutSeconds <= 0 ? 10 : timeoutSeconds);

    public bool Hooks(NativeAbi.Event e) => plugins.Any(p => p.Hooks.Any(h => h.Event == e));
    public IEnumerable<string> EhloLines => plugins.SelectMany(p => p.EhloLines);
    public bool KnowsMailParameter(string keyword) => plugins.Any(p => p.MailParameters.ContainsKey(keyword));
    public bool KnowsRcptParameter(string keyword) => plugins.Any(p => p.RcptParameters.ContainsKey(keyword));
    public bool KnowsVerb(ReadOnlySpan<byte> verb)
    {
        var name = Encoding.ASCII.GetString(verb);
        return plugins.Any(p => p.Verbs.ContainsKey(name));
    }

    /// <summary>The event's hooks in order: the first decision other than continue ends the walk.</summary>
    public NativeCall Event(NativeAbi.Event e, NativeSessionFacts facts) => new(this, facts, f =>
    {
        foreach (var p in plugins)
            foreach (var (ev, fn) in p.Hooks)
            {
                if (ev != e) continue;
                var v = Call(p, f, (data, session, reply) => ((delegate* unmanaged<nint, nint, NativeAbi.Reply*, int>)fn)(data, session, reply));
                if (v.Decision != HookDecision.Continue) return v;
            }
        return HookVerdict.Continue;
    });

    /// <summary>The parameters of a MAIL (or RCPT) that plugins registered, each checked by its plugin.</summary>
    public NativeCall Parameters(bool mail, IReadOnlyList<(string Keyword, byte[]? Value)> given, NativeSessionFacts facts) => new(this, facts, f =>
    {
        foreach (var (keyword, value) in given)
            foreach (var p in plugins)
            {
                if (!(mail ? p.MailParameters : p.RcptParameters).TryGetValue(keyword, out var fn)) continue;
                f.Parameter = value;
                var kp = (nint)f.Native(Encoding.ASCII.GetBytes(keyword), null);
                var vp = value == null ? 0 : (nint)f.Native(value, null);
                var v = Call(p, f, (data, session, reply) =>
                    ((delegate* unmanaged<nint, nint, byte*, byte*, NativeAbi.Reply*, int>)fn)(data, session, (byte*)kp, (byte*)vp, reply),
                    refusal: (501, "5.5.4", $"invalid {keyword} parameter"));
                if (v.Decision is not (HookDecision.Continue or HookDecision.Accept)) return v;
            }
        return HookVerdict.Continue;
    });

    /// <summary>A verb a plugin registered: its reply is the verdict's code and text.</summary>
    public NativeCall Verb(ReadOnlySpan<byte> verb, byte[] argument, NativeSessionFacts facts)
    {
        var name = Encoding.ASCII.GetString(verb);
        var p = plugins.First(p => p.Verbs.ContainsKey(name));
        var fn = p.Verbs[name];
        return new(this, facts, f =>
        {
            var reply = default(NativeAbi.Reply);
            int d;
            var a = f.Native(argument, null);
            var handle = GCHandle.Alloc(f);
            try { d = ((delegate* unmanaged<nint, nint, byte*, NativeAbi.Reply*, int>)fn)(p.Data, GCHandle.ToIntPtr(handle), a, &reply); }
            finally { handle.Free(); }
            // a restart's reply is jsmail's greeting: the plugin's is not used
            if (d == (int)HookDecision.Continue && f.Changes.Restart) return new HookVerdict(HookDecision.Accept, 220, null, []);
            if (d is not ((int)HookDecision.Continue or 4) || reply.Code is < 200 or > 599)
                return Broken(p, $"verb {name} returned decision {d} with reply code {reply.Code}");
            return new HookVerdict(d == 4 ? HookDecision.Disconnect : HookDecision.Accept, reply.Code, Enhanced(&reply), Text(&reply));
        });
    }

    private delegate int Invoke(nint data, nint session, NativeAbi.Reply* reply);

    /// <summary>One callback, its decision and reply checked against the ranges plugin.h gives.</summary>
    private static HookVerdict Call(NativePlugin p, NativeSessionFacts facts, Invoke invoke, (int Code, string Enhanced, string Text)? refusal = null)
    {
        var reply = default(NativeAbi.Reply);
        var handle = GCHandle.Alloc(facts);
        int d;
        try { d = invoke(p.Data, GCHandle.ToIntPtr(handle), &reply); }
        finally { handle.Free(); }
        var (lo, hi, code, enh, text) = d switch
        {
            0 or 1 => (0, 0, 0, "", ""),
            2 => (500, 599, refusal?.Code ?? 550, refusal?.Enhanced ?? "5.7.1", refusal?.Text ?? "refused by a plugin"),
            3 => (400, 499, 451, "4.7.1", "deferred by a plugin"),
            4 => (400, 599, 421, "4.7.0", "closing by a plugin's decision"),
            _ => (-1, -1, 0, "", ""),
        };
        if (lo < 0) return Broken(p, $"hook returned decision {d}");
        if (d <= 1) return d == 0 ? HookVerdict.Continue : new HookVerdict(HookDecision.Accept);
        if (reply.Code != 0 && (reply.Code < lo || reply.Code > hi)) return Broken(p, $"hook returned decision {d} with reply code {reply.Code}");
        var own = reply.Code != 0;
        return new HookVerdict((HookDecision)(d == 4 ? 4 : d == 2 ? 2 : 3), own ? reply.Code : code,
            own ? Enhanced(&reply) ?? Default(reply.Code) : enh, own && Text(&reply) is { Length: > 0 } t ? t : Encoding.ASCII.GetBytes(text));
    }

    private static string Default(int code) => code >= 500 ? "5.7.1" : "4.7.1";

    /// <summary>The plugin broke its contract: a temporary failure the client can retry, and why in the log.</summary>
    private static HookVerdict Broken(NativePlugin p, string why) =>
        new(HookDecision.Defer, 451, "4.3.0", "temporary plugin failure"u8.ToArray()) { Log = $"plugin {p.Path}: {why}" };

    internal static HookVerdict TimedOut(string what, TimeSpan deadline) =>
        new(HookDecision.Defer, 451, "4.3.0", "temporary plugin failure"u8.ToArray()) { Log = $"plugin call ({what}) did not return within {deadline.TotalSeconds} s: abandoned" };

    private static string? Enhanced(NativeAbi.Reply* r)
    {
        var s = Encoding.ASCII.GetString(Clean(r->Enhanced, NativeAbi.ReplyEnhanced));
        return s.Length >= 5 && s.All(c => char.IsAsciiDigit(c) || c == '.') ? s : null;
    }

    private static byte[] Text(NativeAbi.Reply* r) => Clean(r->Text, NativeAbi.ReplyText);

    /// <summary>Up to the NUL, every CR and LF a space: a plugin's text is one line.</summary>
    private static byte[] Clean(byte* p, int max)
    {
        var span = new ReadOnlySpan<byte>(p, max);
        var nul = span.IndexOf((byte)0);
        var bytes = (nul < 0 ? span : span[..nul]).ToArray();
        for (var i = 0; i < bytes.Length; i++) if (bytes[i] is (byte)'\r' or (byte)'\n') bytes[i] = (byte)' ';
        return bytes;
    }
}

/// <summary>One piece of work for plugins, done off the caller's thread with the deadline.</summary>
public sealed class NativeCall(NativePlugins plugins, NativeSessionFacts facts, Func<NativeSessionFacts, HookVerdict> work)
{
    /// <summary>A thread of its own (LongRunning): hung plugins must not starve the pool the next call needs.</summary>
    private Task<HookVerdict> Start() => Task.Factory.StartNew(() =>
    {
        var verdict = work(facts);
        facts.Free();
        return verdict;
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Blocking, for the per-connection program.</summary>
    public HookVerdict Run()
    {
        var task = Start();
        return task.Wait(plugins.Deadline) ? task.Result : NativePlugins.TimedOut("blocking", plugins.Deadline);
    }

    public async Task<HookVerdict> RunAsync(CancellationToken cancel)
    {
        try { return await Start().WaitAsync(plugins.Deadline, cancel); }
        catch (TimeoutException) { return NativePlugins.TimedOut("server", plugins.Deadline); }
    }
}
