using Jsmail.Common.Control;
using Jsmail.Common.Message;

namespace Jsmail.Common.Smtp;

/// <summary>
/// qmail's loop detection: header lines (up to the first empty line) that
/// start with "received" or "delivered", case-insensitively, counted over the
/// decoded message as it streams by. Only the first bytes of a line are
/// held, so a header of any size is counted in constant memory.
/// </summary>
public sealed class SmtpHopCounter
{
    private readonly HeaderReader _header = new(HeaderLineEnds.Lf, lineLimit: "delivered".Length);
    private readonly HeaderLineSink _count;

    public SmtpHopCounter() => _count = Count;

    public int Hops { get; private set; }

    public void Feed(ReadOnlySpan<byte> decoded) => _header.Feed(decoded, _count);

    private bool Count(ReadOnlySpan<byte> lineStart)
    {
        if (StartsWith(lineStart, "received"u8) || StartsWith(lineStart, "delivered"u8)) Hops++;
        return true;
    }

    private static bool StartsWith(ReadOnlySpan<byte> line, ReadOnlySpan<byte> word) =>
        line.Length >= word.Length && AsciiCaseInsensitive.Equals(line[..word.Length], word);
}
