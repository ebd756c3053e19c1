using System.Diagnostics.CodeAnalysis;

namespace Jsmail.Common.Control;

/// <summary>
/// A `key:value` control file such as virtualdomains or smtproutes, built from
/// its list entries: the key is the text before the first ':', the value the
/// text after it; entries without ':' are ignored; when a key repeats, the later
/// entry wins. Keys compare ASCII case-insensitively.
/// </summary>
public sealed class ControlMap
{
    private readonly Dictionary<byte[], byte[]> map = new(AsciiCaseInsensitive.Instance);
    private readonly Dictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> bySpan;

    public ControlMap(IEnumerable<byte[]> entries)
    {
        foreach (var entry in entries)
        {
            int colon = Array.IndexOf(entry, (byte)':');
            if (colon >= 0) map[entry[..colon]] = entry[(colon + 1)..];
        }
        bySpan = map.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => map.Count;

    public bool TryGetValue(ReadOnlySpan<byte> key, [MaybeNullWhen(false)] out byte[] value) =>
        bySpan.TryGetValue(key, out value);

    /// <summary>
    /// qmail's lookup of a host in a domain map (smtproutes; the domain part of
    /// virtualdomains): the whole host, then each suffix starting at a '.',
    /// longest first, then the empty key. The first key present wins.
    /// </summary>
    public bool TryGetByDomain(ReadOnlySpan<byte> host, [MaybeNullWhen(false)] out byte[] value)
    {
        for (int i = 0; i <= host.Length; i++)
            if ((i == 0 || i == host.Length || host[i] == '.') && TryGetValue(host[i..], out value))
                return true;
        value = null;
        return false;
    }
}
