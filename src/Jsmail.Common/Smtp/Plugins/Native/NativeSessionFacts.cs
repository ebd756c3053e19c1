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
    internal static void LogLine(nint session, byte* line)
    {
        if (session == 0 || line == null) return;
        var text = Marshal.PtrToStringUTF8((nint)line) ?? "";
        Of(session).Log(new string(text.Select(c => c < ' ' || c == 127 ? '?' : c).ToArray()));
    }
}
