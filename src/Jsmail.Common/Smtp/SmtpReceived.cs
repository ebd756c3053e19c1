using Jsmail.Common.Message;

namespace Jsmail.Common.Smtp;

/// <summary>
/// The Received line qmail-smtpd adds (interfaces §8.8). Every value from the
/// client or the network is reduced to letters, digits and <c>.@%+/=:-[]</c>,
/// anything else becoming '?', so no CR, LF or NUL can reach the header.
/// </summary>
public static class SmtpReceived
{
    /// <param name="helo">the HELO/EHLO argument, or null when none was given</param>
    /// <param name="remoteInfo">TCPREMOTEINFO, or null</param>
    /// <param name="protocol">"SMTP" as qmail writes; RFC 3848 names otherwise</param>
    public static byte[] Build(ReadOnlySpan<byte> remoteHost, byte[]? helo, byte[]? remoteInfo,
        ReadOnlySpan<byte> remoteIp, ReadOnlySpan<byte> localHost, string protocol, long unixSeconds)
    {
        var o = new List<byte>(160);
        o.AddRange("Received: from "u8);
        Safe(o, remoteHost);
        if (helo != null && !Control.AsciiCaseInsensitive.Equals(helo, remoteHost))
        {
            o.AddRange(" (HELO "u8);
            Safe(o, helo);
            o.Add((byte)')');
        }
        o.AddRange(" ("u8);
        if (remoteInfo != null)
        {
            Safe(o, remoteInfo);
            o.Add((byte)'@');
        }
        Safe(o, remoteIp);
        o.AddRange(")\n  by "u8);
        Safe(o, localHost);
        o.AddRange(" with "u8);
        foreach (var c in protocol) o.Add((byte)c);
        o.AddRange("; "u8);
        o.AddRange(Rfc822Date.Format(unixSeconds));
        o.Add((byte)'\n');
        return o.ToArray();
    }

    public static bool IsSafe(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'.' or (byte)'@' or (byte)'%' or (byte)'+' or (byte)'/' or (byte)'=' or (byte)':'
            or (byte)'-' or (byte)'[' or (byte)']';

    private static void Safe(List<byte> o, ReadOnlySpan<byte> value)
    {
        foreach (var b in value) o.Add(IsSafe(b) ? b : (byte)'?');
    }
}
