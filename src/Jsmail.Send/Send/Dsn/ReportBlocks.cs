using System.Text;
using System.Text.RegularExpressions;

namespace Jsmail.Send.Send.Dsn;

/// <summary>One recipient's outcome as a bounce file block holds it: the address and the spawner's report text.</summary>
public sealed record ReportBlock(byte[] Address, byte[] Text);

/// <summary>
/// Reads back the blocks <see cref="Jsmail.Common.Queue.BounceText.Block"/>
/// wrote (<c>&lt;address&gt;:\n</c>, the report with each blank line made
/// <c>/</c>, a blank line), so that bounce/&lt;id&gt; stays qmail's file and
/// a DSN report is made from it. Pure.
/// </summary>
public static class ReportBlocks
{
    public static List<ReportBlock> Parse(ReadOnlySpan<byte> file)
    {
        var blocks = new List<ReportBlock>();
        var pos = 0;
        while (pos < file.Length)
        {
            var rest = file[pos..];
            var end = rest.IndexOf("\n\n"u8);
            var block = end < 0 ? rest : rest[..end];
            pos += end < 0 ? rest.Length : end + 2;
            var head = block.IndexOf(">:\n"u8);
            if (block.Length == 0 || block[0] != '<' || head < 0) continue; // not a block: a damaged file loses that part only
            blocks.Add(new ReportBlock(block[1..head].ToArray(), block[(head + 3)..].ToArray()));
        }
        return blocks;
    }
}

/// <summary>RFC 3464's per-recipient fields drawn from a qmail-style report text.</summary>
public sealed record DeliveryFacts(string Status, string? RemoteMta, string Diagnostic);

/// <summary>
/// Reads the status, the remote MTA and the diagnostic out of the texts
/// jsmail-local and jsmail-remote write (qmail's: "... (#5.1.1)", "Remote host
/// said: 550 5.1.1 ...", "Giving up on 192.0.2.1."), and jsmail-remote's
/// "Relayed to 192.0.2.1 without DSN." that starts a success
/// when the peer got no DSN request (docs/spawn-protocol.md). Pure.
/// </summary>
public static partial class DeliveryText
{
    /// <param name="outcome">'K' success, 'Z' deferral, 'D' failure: the status class when the text names none</param>
    public static DeliveryFacts Facts(ReadOnlySpan<byte> text, char outcome)
    {
        var s = Encoding.UTF8.GetString(text);
        var said = RemoteSaid().Match(s);
        var status = outcome switch { 'D' => "5.0.0", 'Z' => "4.0.0", _ => "2.0.0" };
        var tag = StatusTag().Matches(s);
        if (tag.Count > 0) status = tag[^1].Groups[1].Value;
        else if (said.Success && said.Groups[2].Success) status = said.Groups[2].Value;
        else if (said.Success && said.Groups[1].Value[0] is '4' or '5' && outcome != 'K') status = $"{said.Groups[1].Value[0]}.0.0";
        var host = RemoteHost().Match(s);
        var diagnostic = said.Success ? "smtp; " + OneLine(said.Value["Remote host said: ".Length..]) : "x-qmail; " + OneLine(s);
        return new DeliveryFacts(status, host.Success ? "dns; " + host.Groups["h"].Value : null, diagnostic);
    }

    /// <summary>A success that went to a peer without DSN: jsmail-remote's notice opens it (Jsmail.Common.Remote.Report.Relayed).</summary>
    public static bool IsRelayed(ReadOnlySpan<byte> text) => text.StartsWith("Relayed to "u8) && Relayed().IsMatch(Encoding.Latin1.GetString(text));

    /// <summary>A header field's value: one line, printable, not too long to fold.</summary>
    private static string OneLine(string s)
    {
        var t = Whitespace().Replace(s, " ").Trim();
        var b = new StringBuilder(t.Length);
        foreach (var c in t) b.Append(c < ' ' || c == 127 ? ' ' : c);
        return b.Length > 900 ? b.ToString(0, 900) : b.ToString();
    }

    [GeneratedRegex(@"\(#([245]\.\d{1,3}\.\d{1,3})\)")]
    private static partial Regex StatusTag();

    [GeneratedRegex(@"Remote host said: ([245]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?[^\n]*")]
    private static partial Regex RemoteSaid();

    [GeneratedRegex(@"(?:^|\n)(?:Connected to (?<h>\S+) but|Giving up on (?<h>\S+?)\.\n|(?<h>\S+) does not like|Relayed to (?<h>\S+) without DSN\.\n)")]
    private static partial Regex RemoteHost();

    [GeneratedRegex(@"\ARelayed to \S+ without DSN\.\n")]
    private static partial Regex Relayed();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
