using Jsmail.Common.Control;

namespace Jsmail.Send.Todo;

/// <summary>
/// qmail-send's rewriting of an envelope recipient into a channel record
/// (interfaces §2.5): envnoathost, the percent hack, locals, then
/// virtualdomains by whole address, domain, each .suffix and the empty key.
/// </summary>
public sealed class RecipientRewriter(ControlSet locals, ControlSet percentHack, ControlMap virtualDomains, byte[] envNoAtHost)
{
    public readonly record struct Rewritten(bool Local, byte[] Address);

    public ControlSet Locals { get; set; } = locals;
    public ControlMap VirtualDomains { get; set; } = virtualDomains;

    public Rewritten Rewrite(ReadOnlySpan<byte> recipient)
    {
        var addr = new List<byte>(recipient.Length + envNoAtHost.Length + 1);
        addr.AddRange(recipient);
        var i = recipient.LastIndexOf((byte)'@');
        if (i < 0)
        {
            i = addr.Count;
            addr.Add((byte)'@');
            addr.AddRange(envNoAtHost);
        }

        while (percentHack.Contains(Span(addr)[(i + 1)..]))
        {
            var j = Span(addr)[..i].LastIndexOf((byte)'%');
            if (j < 0) break;
            addr.RemoveRange(i, addr.Count - i);
            i = j;
            addr[i] = (byte)'@';
        }

        var a = addr.ToArray();
        var at = Array.LastIndexOf(a, (byte)'@');
        if (Locals.Contains(a.AsSpan(at + 1))) return new Rewritten(true, a);

        for (var k = 0; k <= a.Length; k++)
        {
            if (!(k == 0 || k == at + 1 || k == a.Length || (k > at && a[k] == '.'))) continue;
            if (!VirtualDomains.TryGetValue(a.AsSpan(k), out var prepend)) continue;
            if (prepend.Length == 0) break;
            var local = new byte[prepend.Length + 1 + a.Length];
            prepend.CopyTo(local, 0);
            local[prepend.Length] = (byte)'-';
            a.CopyTo(local, prepend.Length + 1);
            return new Rewritten(true, local);
        }
        return new Rewritten(false, a);
    }

    private static Span<byte> Span(List<byte> l) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(l);
}
