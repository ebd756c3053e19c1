using System.Globalization;
using System.Text;
using Jsmail.Common.Message;

namespace Jsmail.Qread;

/// <summary>
/// The lines of qmail-qread, byte for byte: per message
/// <c>&lt;date&gt; GMT  #&lt;id&gt;  &lt;size&gt;  &lt;&lt;sender&gt;&gt; </c> (plus
/// <c> bouncing</c> while a bounce is pending), then one line per recipient,
/// local ones first: <c>\tlocal\t&lt;addr&gt;</c> / <c>\tremote\t&lt;addr&gt;</c>,
/// with <c>  done</c> in front once the recipient is finished. Every byte outside
/// printable ASCII (space to tilde) in these lines is shown as <c>_</c>.
/// </summary>
public static class QreadReport
{
    /// <summary>
    /// Pure: the message line. <paramref name="info"/> is the info file's content
    /// (<c>F&lt;sender&gt;\0</c>): the sender is what follows its first byte up to the NUL.
    /// The date is the info file's mtime (the message's birth) in qmail's 822 form without its zone.
    /// </summary>
    public static byte[] MessageLine(long birth, ulong id, long size, ReadOnlySpan<byte> info, bool bouncing)
    {
        var line = new List<byte>(128);
        var date = Rfc822Date.Format(birth);
        line.AddRange(date.AsSpan(0, date.Length - " -0000".Length));
        line.AddRange(Ascii(string.Create(CultureInfo.InvariantCulture, $" GMT  #{id}  {size}  <")));
        line.AddRange(Sender(info));
        line.AddRange("> "u8);
        if (bouncing) line.AddRange(" bouncing"u8);
        return Printable(line, lf: true);
    }

    /// <summary>
    /// Pure: the recipient lines of one channel file (records <c>T&lt;addr&gt;\0</c>,
    /// or <c>D&lt;addr&gt;\0</c> once done). A record without its closing NUL is
    /// not shown; records of any other type are skipped, as qmail-qread does.
    /// </summary>
    public static byte[] RecipientLines(ReadOnlySpan<byte> channelFile, bool remote)
    {
        var lines = new List<byte>();
        var rest = channelFile;
        while (true)
        {
            var nul = rest.IndexOf((byte)0);
            if (nul < 0) break;
            var record = rest[..nul];
            rest = rest[(nul + 1)..];
            if (record.IsEmpty || record[0] is not ((byte)'T' or (byte)'D')) continue;
            if (record[0] == (byte)'D') lines.AddRange("  done"u8);
            lines.AddRange(remote ? "\tremote\t"u8 : "\tlocal\t"u8);
            lines.AddRange(Printable(record[1..]));
            lines.Add((byte)'\n');
        }
        return [.. lines];
    }

    private static ReadOnlySpan<byte> Sender(ReadOnlySpan<byte> info)
    {
        if (info.IsEmpty) return [];
        var sender = info[1..];
        var nul = sender.IndexOf((byte)0);
        return nul < 0 ? sender : sender[..nul];
    }

    private static byte[] Printable(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        for (var i = 0; i < copy.Length; i++) if (copy[i] is < 32 or > 126) copy[i] = (byte)'_';
        return copy;
    }

    private static byte[] Printable(List<byte> bytes, bool lf)
    {
        var printable = Printable(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        return lf ? [.. printable, (byte)'\n'] : printable;
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
