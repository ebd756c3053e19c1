using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>
/// qmail-remote's output on fd 1 (§6.7): a report per recipient (r, s, h),
/// then one for the message (K, Z, D), each ending in NUL.
/// </summary>
public sealed class Report
{
    private readonly List<byte> _out = new();

    public byte[] Bytes => _out.ToArray();

    /// <summary>Forgets what was added (a transaction on a stale pooled session, to be made again).</summary>
    public void Clear() => _out.Clear();

    /// <summary>The records added so far, each its letter and text (a delivery split into transactions merges them).</summary>
    public List<(char Letter, byte[] Text)> Records
    {
        get
        {
            var records = new List<(char, byte[])>();
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_out);
            while (!span.IsEmpty)
            {
                var nul = span.IndexOf((byte)0);
                records.Add(((char)span[0], span[1..nul].ToArray()));
                span = span[(nul + 1)..];
            }
            return records;
        }
    }

    public void Add(char letter, ReadOnlySpan<byte> text)
    {
        _out.Add((byte)letter);
        _out.AddRange(text.ToArray());
        _out.Add(0);
    }

    public void Add(char letter, string text = "") => Add(letter, Encoding.Latin1.GetBytes(text));

    /// <summary>"&lt;prefix&gt;&lt;ip&gt;&lt;suffix&gt;.\n" then "Remote host said: " and the reply lines.</summary>
    public static byte[] About(string prefix, string ip, string suffix, byte[]? replyText)
    {
        var o = new List<byte>(Encoding.Latin1.GetBytes($"{prefix}{ip}{suffix}.\n"));
        if (replyText is { Length: > 0 })
        {
            o.AddRange("Remote host said: "u8.ToArray());
            o.AddRange(replyText);
        }
        return o.ToArray();
    }

    /// <summary>
    /// jsmail's text of an accepted recipient's 'r' record when the peer got
    /// no DSN request for it (docs/spawn-protocol.md, "relayed"): jsmail-send
    /// reads it at the start of a K result (qmail-rspawn puts the recipient
    /// record's text first) and reports the recipient as relayed.
    /// </summary>
    public static string Relayed(string ip) => $"Relayed to {ip} without DSN.\n";

    /// <summary>A host name as qmail prints it in errors: bytes outside 33..126 become '?'.</summary>
    public static string Printable(ReadOnlySpan<byte> host)
    {
        var sb = new StringBuilder(host.Length);
        foreach (var b in host) sb.Append(b is >= 33 and <= 126 ? (char)b : '?');
        return sb.ToString();
    }
}
