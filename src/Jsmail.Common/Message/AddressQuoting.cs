using System.Buffers;

namespace Jsmail.Common.Message;

/// <summary>
/// qmail's rendering of an envelope address for SMTP and headers (interfaces
/// §0.4): the local part is quoted only when it has to be; the domain is never touched.
/// </summary>
public static class AddressQuoting
{
    // The local-part bytes that never need quoting (RFC 822 atom characters plus '.').
    private static readonly SearchValues<byte> AtomBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~."u8);

    // The same plus every byte of 128 or more, for a local part already known to be well-formed UTF-8.
    private static readonly SearchValues<byte> Utf8AtomBytes = SearchValues.Create(
        [.. "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~."u8, .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>
    /// The address with its local part (everything before the last '@', or the
    /// whole address without '@') quoted if needed. The empty address stays
    /// empty, because it is the null sender written inside &lt;&gt;.
    /// With <paramref name="utf8"/> a local part whose 8-bit bytes are UTF-8
    /// counts as atoms (RFC 6532 §3.2), as an SMTPUTF8 client sent it.
    /// </summary>
    public static byte[] Quote(ReadOnlySpan<byte> address, bool utf8 = false)
    {
        if (address.IsEmpty) return [];
        int at = address.LastIndexOf((byte)'@');
        var local = at < 0 ? address : address[..at];
        var domain = at < 0 ? default : address[at..];
        if (!NeedsQuoting(local, utf8)) return address.ToArray();

        var quoted = new List<byte>(address.Length + 8) { (byte)'"' };
        foreach (byte b in local)
        {
            if (b is (byte)'\r' or (byte)'\n' or (byte)'"' or (byte)'\\') quoted.Add((byte)'\\');
            quoted.Add(b);
        }
        quoted.Add((byte)'"');
        quoted.AddRange(domain);
        return [.. quoted];
    }

    /// <summary>
    /// Whether a local part must be quoted: it is empty, has a byte outside the
    /// atom set (any byte of 128 or more included), starts or ends with '.', or
    /// holds "..". With <paramref name="utf8"/>, bytes of 128 or more are
    /// atom bytes when all of them are well-formed UTF-8 (RFC 6532 §3.2).
    /// </summary>
    public static bool NeedsQuoting(ReadOnlySpan<byte> localPart, bool utf8 = false) =>
        localPart.IsEmpty
        || (utf8 && Utf8Mail.IsUtf8Text(localPart)
            ? localPart.IndexOfAnyExcept(Utf8AtomBytes) >= 0
            : localPart.IndexOfAnyExcept(AtomBytes) >= 0)
        || localPart[0] == '.'
        || localPart[^1] == '.'
        || localPart.IndexOf(".."u8) >= 0;
}
