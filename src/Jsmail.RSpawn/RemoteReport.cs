using Jsmail.Common.Os;

namespace Jsmail.RSpawn;

/// <summary>
/// qmail-rspawn's report from qmail-remote's exit status and output (§6.1):
/// the recipient's report and the message's combined into one K, Z or D.
/// </summary>
internal static class RemoteReport
{
    public static byte[] Build(int waitStatus, ReadOnlySpan<byte> output)
    {
        if (!Libc.Exited(waitStatus)) return "Zqmail-remote crashed.\n"u8.ToArray();
        switch (Libc.ExitCode(waitStatus))
        {
            case 0: break;
            case 111: return "ZUnable to run qmail-remote.\n"u8.ToArray();
            default: return "DUnable to run qmail-remote.\n"u8.ToArray();
        }
        if (output.IsEmpty) return "Zqmail-remote produced no output.\n"u8.ToArray();

        var records = Records(output);
        var result = records.Select(r => Outcome(r)).FirstOrDefault(o => o != 0);
        if (result == 0) result = 'D';
        var overall = output[0] switch { (byte)'s' => 'Z', (byte)'h' => 'D', _ => result };

        var report = new List<byte> { (byte)overall };
        if (records[0].Length > 0) report.AddRange(records[0][1..]);
        if (Rank(result) <= Rank(overall) && records.Count > 1 && Outcome(records[1]) != 0)
            report.AddRange(records[1][1..]);
        return report.ToArray();
    }

    /// <summary>
    /// The report of each of <paramref name="recipients"/> recipients given to
    /// one run: <see cref="Build"/> of what qmail-remote would have written for
    /// that recipient alone, its own recipient record (r, s or h, by position)
    /// followed by the message record (the first K, Z or D). A recipient the
    /// output has no record for gets the message record alone.
    /// </summary>
    public static byte[][] BuildEach(int waitStatus, ReadOnlySpan<byte> output, int recipients)
    {
        var records = Records(output);
        var message = records.FindIndex(r => Outcome(r) != 0);
        var perRecipient = message < 0 ? records.Count : message;
        var reports = new byte[recipients][];
        for (var i = 0; i < recipients; i++)
        {
            var alone = new List<byte>();
            if (i < perRecipient) alone.AddRange([.. records[i], 0]);
            if (message >= 0) alone.AddRange([.. records[message], 0]);
            reports[i] = Build(waitStatus, alone.ToArray());
        }
        return reports;
    }

    private static char Outcome(byte[] record) =>
        record.Length > 0 && record[0] is (byte)'K' or (byte)'Z' or (byte)'D' ? (char)record[0] : (char)0;

    /// <summary>Success is better than temporary, temporary than permanent.</summary>
    private static int Rank(char outcome) => outcome switch { 'K' => 2, 'Z' => 1, _ => 0 };

    /// <summary>The NUL-terminated records of the output (a last one without NUL counts too).</summary>
    private static List<byte[]> Records(ReadOnlySpan<byte> output)
    {
        var list = new List<byte[]>();
        while (!output.IsEmpty)
        {
            var nul = output.IndexOf((byte)0);
            list.Add((nul < 0 ? output : output[..nul]).ToArray());
            output = nul < 0 ? default : output[(nul + 1)..];
        }
        return list;
    }
}
