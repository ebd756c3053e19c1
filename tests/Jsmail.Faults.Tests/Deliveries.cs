using System.Text;
using System.Text.RegularExpressions;

namespace Jsmail.Faults.Tests;

/// <summary>One copy of an attempt found at a destination: where, when it was written, and (remote only) whether the client read the peer's 250.</summary>
public sealed record Copy(int Message, int Attempt, string File, DateTime Written, bool Complete, bool Acked);

/// <summary>
/// Everything the flow's messages became, read from the destinations: alice's
/// Maildir (local), the peer (remote) and the sender's Maildir (bounces), each
/// copy traced to its attempt by its token, and whether it is whole (its END
/// line is there: a cut file in new/ would lack it).
/// </summary>
public sealed class Deliveries
{
    public List<Copy> Local { get; } = [];
    public List<Copy> Remote { get; } = [];
    public List<Copy> Bounced { get; } = [];

    /// <summary>Maildir files that carry no token of the flow at all (cut before their subject, or foreign).</summary>
    public List<string> Unknown { get; } = [];

    public static Deliveries Read(MixedFlow flow, FaultMta mta, FaultPeer peer)
    {
        var tokens = new Regex($@"flow-{flow.Run}-(\d+)-(\d+)");
        var d = new Deliveries();
        Copy? Trace(string file, DateTime written, string content, bool acked)
        {
            var m = tokens.Match(content);
            if (!m.Success) { d.Unknown.Add(file); return null; }
            return new Copy(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), file, written,
                content.Replace("\r\n", "\n").Contains("END-" + m.Value + "\n"), acked);
        }
        foreach (var (box, list) in new[] { (MixedFlow.Alice, d.Local), (MixedFlow.Sender, d.Bounced) })
            foreach (var file in MaildirFiles(mta.Maildir(box)))
                if (Trace(file, File.GetLastWriteTimeUtc(file), File.ReadAllText(file, Encoding.Latin1), true) is { } c) list.Add(c);
        foreach (var r in peer.Messages())
            if (Trace(r.Name, r.Written, r.Content, r.Acked) is { } c) d.Remote.Add(c);
        return d;
    }

    /// <summary>The delivered files of a Maildir (new/ and cur/; tmp/ holds only what is not delivered).</summary>
    public static IEnumerable<string> MaildirFiles(string maildir) =>
        new[] { "new", "cur" }.Select(s => Path.Combine(maildir, s)).Where(Directory.Exists).SelectMany(Directory.EnumerateFiles);
}
