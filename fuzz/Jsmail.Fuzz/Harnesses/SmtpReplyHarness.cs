using Jsmail.Common.Smtp;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>A hostile SMTP server's replies, line by line as jsmail-remote reads them.</summary>
public static class SmtpReplyHarness
{
    public static void Run(byte[] data)
    {
        var parser = new ServerReplyParser();
        var pending = 0;
        foreach (var line in Invariant.Lines(data))
        {
            pending++;
            var reply = parser.Add(line);
            if (reply == null)
            {
                That(line.Length > 3 && line[3] == (byte)'-', "only a continuation line leaves the reply open");
                continue;
            }
            That(reply.Lines.Count == pending, "a reply holds every line since the last one");
            pending = 0;
            That(reply.Code is >= 0 and <= 999, "a code has three digits or is 0");
            That(reply.Code == ServerReplyParser.CodeOf(reply.Lines[0]), "the code is the first line's");
            foreach (var l in reply.Lines)
            {
                That(l.Length <= ServerReplyParser.MaxLine, "lines are cut at MaxLine");
                That(Array.IndexOf(l, (byte)0) < 0, "NUL becomes '?'");
            }
            var text = reply.Text;
            That(text.Count(b => b == (byte)'\n') >= reply.Lines.Count, "the text has a line per line");
            foreach (var (keyword, _) in reply.Extensions) That(keyword == keyword.ToUpperInvariant(), "keywords are upper case");
            _ = reply.ToString();
        }
    }
}
