using System.Runtime.InteropServices;
using System.Text;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>
/// A copy of the session's facts for one call into a plugin, which reads
/// them through the api table (never the session itself: a call abandoned
/// at its deadline may still be reading while the session goes on). The
/// strings handed out live in native memory until <see cref="Free"/>.
/// </summary>
public sealed unsafe class NativeSessionFacts
{
    public required byte[] RemoteIp { get; init; }
    public required byte[] RemoteHost { get; init; }
    public byte[]? Helo { get; init; }
    public byte[]? Sender { get; init; }
    public IReadOnlyList<byte[]> Recipients { get; init; } = [];
    /// <summary>At RCPT: the address being decided, fact index Recipients.Count.</summary>
    public byte[]? Deciding { get; init; }
    public string? Tls { get; init; }
    public byte[]? AuthUser { get; init; }
    /// <summary>During a parameter check: its value.</summary>
    public byte[]? Parameter { get; set; }
    public Action<string> Log { get; init; } = _ => { };
    public byte[]? RemotePort { get; init; }
    public string Protocol { get; init; } = "SMTP";
    /// <summary>The session's environment (tcpserver's and tcprules' variables), a copy: the session may change its own meanwhile.</summary>
    public IReadOnlyList<byte[]> Environment { get; init; } = [];
    /// <summary>What this call may change (ABI version 2): facts and a restart in a verb, EHLO lines in a HELO hook.</summary>
    public NativeCallKind Kind { get; init; }
    /// <summary>What the plugin asked to change; read by the session only once the call returned in time.</summary>
    public NativeSessionChanges Changes { get; } = new();

    private readonly List<nint> _allocated = new();

    public void Free()
    {
        lock (_allocated)
        {
            foreach (var p in _allocated) NativeMemory.Free((void*)p);
            _allocated.Clear();
        }
    }

    internal byte* Native(byte[] value, nuint* length)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)value.Length + 1);
        value.CopyTo(new Span<byte>(p, value.Length));
        p[value.Length] = 0;
        lock (_allocated) _allocated.Add((nint)p);
        if (length != null) *length = (nuint)value.Length;
        return p;
    }

    private byte[]? Get(NativeAbi.Fact fact, nuint index) => fact switch
    {
        NativeAbi.Fact.RemoteIp => RemoteIp,
        NativeAbi.Fact.RemoteHost => RemoteHost,
        NativeAbi.Fact.Helo => Helo,
        NativeAbi.Fact.Sender => Sender,
        NativeAbi.Fact.Recipient => index < (nuint)Recipients.Count ? Recipients[(int)index]
            : index == (nuint)Recipients.Count ? Deciding : null,
        NativeAbi.Fact.Tls => Tls == null ? null : Encoding.ASCII.GetBytes(Tls),
        NativeAbi.Fact.AuthUser => AuthUser,
        NativeAbi.Fact.Parameter => Parameter,
        NativeAbi.Fact.RemotePort => RemotePort,
        NativeAbi.Fact.Protocol => Encoding.ASCII.GetBytes(Protocol),
        _ => null,
    };

    private static NativeSessionFacts Of(nint session) => (NativeSessionFacts)GCHandle.FromIntPtr(session).Target!;

    [UnmanagedCallersOnly]
    internal static byte* Fact(nint session, int fact, nuint index, nuint* length)
    {
        if (session == 0) return null;
        var facts = Of(session);
        return facts.Get((NativeAbi.Fact)fact, index) is { } value ? facts.Native(value, length) : null;
    }

    [UnmanagedCallersOnly]
    internal static nuint RecipientCount(nint session) => session == 0 ? 0 : (nuint)Of(session).Recipients.Count;

    [UnmanagedCallersOnly]
    internal static byte* Env(nint session, byte* name)
    {
        if (session == 0 || name == null) return null;
        var facts = Of(session);
        if (Bytes(name) is not { Length: > 0 } wanted || wanted.AsSpan().IndexOf((byte)'=') >= 0) return null;
        for (var i = facts.Environment.Count - 1; i >= 0; i--)
        {
            var e = facts.Environment[i];
            if (e.Length > wanted.Length && e[wanted.Length] == (byte)'=' && e.AsSpan(0, wanted.Length).SequenceEqual(wanted))
                return facts.Native(e[(wanted.Length + 1)..], null);
        }
        return null;
    }

    [UnmanagedCallersOnly]
    internal static int SetFact(nint session, int fact, byte* value)
    {
        if (session == 0) return -1;
        var facts = Of(session);
        if (facts.Kind != NativeCallKind.Verb) return -1;
        if (value == null) return facts.Changes.Set((NativeAbi.Fact)fact, null) ? 0 : -1;
        return Bytes(value) is { } bytes && facts.Changes.Set((NativeAbi.Fact)fact, bytes) ? 0 : -1;
    }

    [UnmanagedCallersOnly]
    internal static int Restart(nint session)
    {
        if (session == 0 || Of(session).Kind != NativeCallKind.Verb) return -1;
        Of(session).Changes.RestartAsked();
        return 0;
    }

    [UnmanagedCallersOnly]
    internal static int EhloOffer(nint session, byte* line)
    {
        if (session == 0 || line == null || Of(session).Kind != NativeCallKind.Helo) return -1;
        return Bytes(line) is { } text && Of(session).Changes.Offer(text) ? 0 : -1;
    }

    /// <summary>A C string's bytes; null when it runs past <paramref name="max"/> (no value jsmail takes is that long).</summary>
    private static byte[]? Bytes(byte* s, int max = 1024)
    {
        var n = 0;
        while (s[n] != 0)
            if (++n > max) return null;
        return new ReadOnlySpan<byte>(s, n).ToArray();
    }

    [UnmanagedCallersOnly]
    internal static void LogLine(nint session, byte* line)
    {
        if (session == 0 || line == null) return;
        var text = Marshal.PtrToStringUTF8((nint)line) ?? "";
        Of(session).Log(new string(text.Select(c => c < ' ' || c == 127 ? '?' : c).ToArray()));
    }
}
