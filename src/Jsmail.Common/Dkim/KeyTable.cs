using Jsmail.Common.Control;

namespace Jsmail.Common.Dkim;

/// <summary>The key to sign with: the d= domain, the selector and the private key's file.</summary>
internal sealed record SigningKey(byte[] Domain, byte[] Selector, byte[] KeyPath);

/// <summary>
/// control/dkimkeys: lines <c>domain:selector:keyfile</c>, looked up as qmail
/// looks up smtproutes: the whole domain, then each <c>.suffix</c> (longest
/// first), then the empty domain as a default. An exact line signs as that
/// domain, a <c>.suffix</c> line as the suffix without its dot (one key
/// published at the parent serves its subdomains), the default as the
/// message's own domain. Lines without a selector or a key file are ignored;
/// a later line for the same domain wins.
/// </summary>
internal sealed class KeyTable(IEnumerable<byte[]> lines)
{
    private readonly ControlMap _map = new(lines);

    public SigningKey? Find(ReadOnlySpan<byte> domain)
    {
        for (var i = 0; i <= domain.Length; i++)
        {
            if (i != 0 && i != domain.Length && domain[i] != (byte)'.') continue;
            var key = domain[i..];
            if (!_map.TryGetValue(key, out var value)) continue;
            var colon = Array.IndexOf(value, (byte)':');
            if (colon <= 0 || colon == value.Length - 1) continue;
            var signingDomain = i == 0 || i == domain.Length ? domain.ToArray() : key[1..].ToArray();
            return new SigningKey(signingDomain, value[..colon], value[(colon + 1)..]);
        }
        return null;
    }
}
