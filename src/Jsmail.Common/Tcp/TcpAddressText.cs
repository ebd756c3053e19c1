using System.Net;
using System.Net.Sockets;

namespace Jsmail.Common.Tcp;

/// <summary>
/// Addresses as ucspi-tcp spells them in TCPLOCALIP and TCPREMOTEIP, which is
/// also the text the access rules' keys are matched against, byte for byte.
/// </summary>
/// <remarks>
/// IPv4 is dotted decimal. IPv6 follows ucspi-tcp-ipv6, which is not RFC 5952:
/// groups in lower-case hex without leading zeros, and the longest run of zero
/// groups written "::" even when the run is a single group (the first run wins
/// a tie). An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address, as
/// ucspi-tcp-ipv6 treats it; an IPv4-compatible one (::a.b.c.d) is plain hex.
/// The scope of a link-local address is not part of the text.
/// </remarks>
public static class TcpAddressText
{
    private const byte Colon = (byte)':';

    /// <summary>The address as the IP version a connection is said to have: IPv4-mapped IPv6 becomes IPv4.</summary>
    public static IPAddress Unmapped(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>True when the address is IPv6 after unmapping: PROTO is TCP6 and the TCP6 variables are set.</summary>
    public static bool IsIPv6(IPAddress address) => Unmapped(address).AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>The ASCII text of <paramref name="address"/> as ucspi-tcp writes it.</summary>
    public static byte[] Format(IPAddress address)
    {
        address = Unmapped(address);
        Span<byte> raw = stackalloc byte[16];
        address.TryWriteBytes(raw, out var length);
        return length == 4 ? FormatIPv4(raw[..4]) : FormatIPv6(raw);
    }

    private static byte[] FormatIPv4(ReadOnlySpan<byte> raw)
    {
        Span<byte> text = stackalloc byte[15];
        var n = 0;
        for (var i = 0; i < 4; i++)
        {
            if (i > 0) text[n++] = (byte)'.';
            raw[i].TryFormat(text[n..], out var written);
            n += written;
        }
        return text[..n].ToArray();
    }

    private static byte[] FormatIPv6(ReadOnlySpan<byte> raw)
    {
        Span<ushort> groups = stackalloc ushort[8];
        for (var i = 0; i < 8; i++) groups[i] = (ushort)(raw[2 * i] << 8 | raw[2 * i + 1]);
        var (runStart, runLength) = LongestZeroRun(groups);

        Span<byte> text = stackalloc byte[40];
        var n = 0;
        for (var i = 0; i < 8; i++)
        {
            if (i == runStart && runLength > 0)
            {
                // "::" replaces the run: a leading run needs its own first colon,
                // and the colon after the run is the one the next group would write.
                if (i == 0) text[n++] = Colon;
                text[n++] = Colon;
                i += runLength - 1;
                continue;
            }
            groups[i].TryFormat(text[n..], out var written, "x");
            n += written;
            if (i < 7) text[n++] = Colon;
        }
        return text[..n].ToArray();
    }

    /// <summary>The first longest run of zero groups, of length 0 when there is none.</summary>
    private static (int Start, int Length) LongestZeroRun(ReadOnlySpan<ushort> groups)
    {
        int bestStart = 0, bestLength = 0;
        for (var i = 0; i < groups.Length;)
        {
            if (groups[i] != 0) { i++; continue; }
            var start = i;
            while (i < groups.Length && groups[i] == 0) i++;
            if (i - start > bestLength) (bestStart, bestLength) = (start, i - start);
        }
        return (bestStart, bestLength);
    }
}
