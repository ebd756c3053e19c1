using Jsmail.Common.Control;

namespace Jsmail.Common.Dkim;

/// <summary>
/// The "relaxed" header canonicalization of RFC 6376 §3.4.2: the name in
/// lower case, the field unfolded, runs of space and tab as one space, none
/// at the end of the value nor around the colon.
/// </summary>
internal static class RelaxedHeader
{
    /// <summary>"name:value" followed by CRLF, from the field's wire lines.</summary>
    public static byte[] Canonicalize(IReadOnlyList<byte[]> lines)
    {
        var o = new List<byte>();
        var colonSeen = false;
        var pendingSpace = false;
        var valueStarted = false;
        foreach (var line in lines)
            foreach (var b in line)
            {
                if (!colonSeen)
                {
                    if (b == (byte)':') { colonSeen = true; o.Add(b); }
                    else if (b is not ((byte)' ' or (byte)'\t')) o.Add(AsciiCase.Lower(b));
                    continue;
                }
                if (b is (byte)' ' or (byte)'\t') { pendingSpace = valueStarted; continue; }
                if (pendingSpace) o.Add((byte)' ');
                pendingSpace = false;
                valueStarted = true;
                o.Add(b);
            }
        o.Add((byte)'\r');
        o.Add((byte)'\n');
        return o.ToArray();
    }
}
