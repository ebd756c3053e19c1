using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Message;

namespace Jsmail.Common.Queue;

/// <summary>qmail's bounce texts (interfaces §2.10), byte for byte. Pure.</summary>
public static class BounceText
{
    /// <summary>
    /// The recipient as a bounce names it: without the virtual-domain prefix
    /// that rewriting added (domain, .suffixes and the empty key; never the
    /// virtual-user key), compared case-sensitively as qmail does.
    /// </summary>
    public static ReadOnlySpan<byte> StripVirtualPrefix(ReadOnlySpan<byte> recipient, ControlMap virtualDomains)
    {
        var at = recipient.LastIndexOf((byte)'@');
        if (at < 0) return recipient;
        var domain = recipient[(at + 1)..];
        for (var i = 0; i <= domain.Length; i++)
        {
            if (!(i == 0 || i == domain.Length || domain[i] == '.')) continue;
            if (!virtualDomains.TryGetValue(domain[i..], out var prepend)) continue;
            if (prepend.Length == 0) break;
            if (!recipient.StartsWith(prepend) || recipient.Length <= prepend.Length || recipient[prepend.Length] != '-') break;
            return recipient[(prepend.Length + 1)..];
        }
        return recipient;
    }

    /// <summary>One block of the bounce file for a permanent failure.</summary>
    public static byte[] Block(ReadOnlySpan<byte> recipient, ReadOnlySpan<byte> report, ControlMap virtualDomains)
    {
        var o = new List<byte>(recipient.Length + report.Length + 8) { (byte)'<' };
        foreach (var b in StripVirtualPrefix(recipient, virtualDomains)) o.Add(b == '\n' ? (byte)'_' : b);
        o.AddRange(">:\n"u8);
        o.AddRange(report);
        if (report.Length > 0 && report[^1] != '\n') o.Add((byte)'\n');
        for (var pos = o.Count - 2; pos > 0; pos--)
            if (o[pos] == '\n' && o[pos - 1] == '\n') o[pos] = (byte)'/';
        o.Add((byte)'\n');
        return o.ToArray();
    }

    /// <summary>Everything of the bounce message before the bounce file's contents.</summary>
    public static byte[] Head(long now, byte[] bounceFrom, byte[] bounceHost, ReadOnlySpan<byte> bounceRecipient, bool single)
    {
        var o = new List<byte>(512);
        o.AddRange("Date: "u8);
        o.AddRange(Rfc822Date.Format(now));
        o.AddRange("\nFrom: "u8);
        o.AddRange(AddressQuoting.Quote(bounceFrom));
        o.Add((byte)'@');
        o.AddRange(bounceHost);
        o.AddRange("\nTo: "u8);
        o.AddRange(AddressQuoting.Quote(bounceRecipient));
        o.AddRange("\nSubject: failure notice\n\nHi. This is the qmail-send program at "u8);
        o.AddRange(bounceHost);
        o.AddRange(single
            ? ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n"u8
            : ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n"u8);
        return o.ToArray();
    }

    /// <summary>Between the bounce file and the copied message.</summary>
    public static byte[] Separator(bool single, ReadOnlySpan<byte> sender)
    {
        var o = new List<byte>(128);
        o.AddRange(single ? "--- Below this line is a copy of the message.\n\n"u8 : "--- Below this line is the original bounce.\n\n"u8);
        o.AddRange("Return-Path: <"u8);
        o.AddRange(AddressQuoting.Quote(sender));
        o.AddRange(">\n"u8);
        return o.ToArray();
    }

    /// <summary>
    /// Between the bounce file and the returned header section of a message
    /// that came with REQUIRETLS (RFC 8689 §5: its body is not returned; jsmail's, qmail has no such message).
    /// </summary>
    public static byte[] HeaderSeparator(bool single, ReadOnlySpan<byte> sender)
    {
        var o = new List<byte>(160);
        o.AddRange(single
            ? "--- Below this line is the header of the message. It required TLS (REQUIRETLS), so its body is not returned.\n\n"u8
            : "--- Below this line is the header of the original bounce. It required TLS (REQUIRETLS), so its body is not returned.\n\n"u8);
        o.AddRange("Return-Path: <"u8);
        o.AddRange(AddressQuoting.Quote(sender));
        o.AddRange(">\n"u8);
        return o.ToArray();
    }

    public static readonly byte[] TooLong =
        Encoding.ASCII.GetBytes("I'm not going to try again; this message has been in the queue too long.\n");
}
