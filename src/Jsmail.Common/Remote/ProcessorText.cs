using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

/// <summary>The texts of send-time processing: the environment it gives, the reports it makes.</summary>
public static class ProcessorText
{
    private const int CommandLimit = 100, SaidLimit = 200;

    /// <summary>$RECIPIENTS: the recipients in argument order, one per line (an address holds no LF or NUL).</summary>
    public static byte[] RecipientList(IReadOnlyList<byte[]> recipients)
    {
        var o = new List<byte>();
        for (var i = 0; i < recipients.Count; i++)
        {
            if (i > 0) o.Add((byte)'\n');
            o.AddRange(recipients[i]);
        }
        return o.ToArray();
    }

    /// <summary>The Z report text for a processor that failed; it names the command line and quotes its first line on fd 2.</summary>
    public static string Failure(byte[] command, ProcessorOutcome outcome, int timeoutSeconds)
    {
        var which = Printable(command, CommandLimit);
        var what = outcome.Kind switch
        {
            ProcessorFailure.CannotStart => $"Unable to run send-time processor {which}: {ErrorText.Describe(outcome.Code)}.",
            ProcessorFailure.Exited => $"Send-time processor {which} failed (exit code {outcome.Code}).",
            ProcessorFailure.Signalled => $"Send-time processor {which} crashed (signal {outcome.Code}).",
            ProcessorFailure.TimedOut => $"Send-time processor {which} timed out after {timeoutSeconds} seconds.",
            ProcessorFailure.NoOutput => $"Send-time processor {which} produced no output.",
            _ => "System resources temporarily unavailable.",
        };
        var text = new StringBuilder(what).Append(" (#4.3.0)\n");
        var said = FirstLine(outcome.Said ?? []);
        if (said.Length > 0) text.Append("It said: ").Append(Printable(said, SaidLimit)).Append('\n');
        return text.ToString();
    }

    private static ReadOnlySpan<byte> FirstLine(ReadOnlySpan<byte> text)
    {
        var lf = text.IndexOfAny((byte)'\n', (byte)'\r');
        return (lf < 0 ? text : text[..lf]).TrimEnd(" \t"u8);
    }

    /// <summary>Printable ASCII kept, anything else (NUL included, which would end the report) shown as '?'; long text cut with "...".</summary>
    public static string Printable(ReadOnlySpan<byte> bytes, int limit)
    {
        var sb = new StringBuilder(Math.Min(bytes.Length, limit) + 3);
        foreach (var b in bytes[..Math.Min(bytes.Length, limit)]) sb.Append(b is >= 32 and <= 126 ? (char)b : '?');
        if (bytes.Length > limit) sb.Append("...");
        return sb.ToString();
    }
}
