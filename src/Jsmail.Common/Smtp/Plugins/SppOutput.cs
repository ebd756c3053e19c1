namespace Jsmail.Common.Smtp.Plugins;

/// <summary>One command line of a plugin's output: its letter and the bytes after it.</summary>
public readonly record struct SppLine(byte Command, byte[] Argument)
{
    /// <summary>A, N, O, E, R and D end the plugin's output: qmail-spp reads no further.</summary>
    public bool IsTerminal => Command is (byte)'A' or (byte)'N' or (byte)'O' or (byte)'E' or (byte)'R' or (byte)'D';

    /// <summary>The argument as the C string qmail-spp uses for all but H: up to its first NUL.</summary>
    public byte[] Text
    {
        get
        {
            var nul = Array.IndexOf(Argument, (byte)0);
            return nul < 0 ? Argument : Argument[..nul];
        }
    }
}

/// <summary>
/// A plugin's stdout read as qmail-spp 0.42 reads it (plugin-protocols.md
/// §1.4): one command a line; the last byte of each line is dropped (the LF,
/// or the last character of a final line without one); lines of one byte or
/// none are skipped; reading stops after the first terminal command.
/// </summary>
public static class SppOutput
{
    public static List<SppLine> Read(ReadOnlySpan<byte> output)
    {
        var lines = new List<SppLine>();
        while (!output.IsEmpty)
        {
            var lf = output.IndexOf((byte)'\n');
            var line = lf < 0 ? output : output[..(lf + 1)];
            output = output[line.Length..];
            if (line.Length <= 1) continue;
            var command = new SppLine(line[0], line[1..^1].ToArray());
            lines.Add(command);
            if (command.IsTerminal) break;
        }
        return lines;
    }
}
