namespace Jsmail.Fuzz;

/// <summary>A parser broke one of its own promises: afl-fuzz and the regression test treat it as a crash.</summary>
public sealed class InvariantException(string message) : Exception(message);

/// <summary>Assertions the harnesses make, and the input splitting several of them share.</summary>
public static class Invariant
{
    public static void That(bool condition, string promise)
    {
        if (!condition) throw new InvariantException(promise);
    }

    public static void Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, string promise) => That(a.SequenceEqual(b), promise);

    /// <summary>
    /// Chunk sizes for feeding a push parser: the first byte of the input picks
    /// them, so afl-fuzz explores chunkings as it explores bytes. Never 0.
    /// </summary>
    public static IEnumerable<int> Chunks(int total, byte seed)
    {
        var step = 1 + seed % 7;
        var offset = 0;
        while (offset < total)
        {
            var n = Math.Min(total - offset, step);
            yield return n;
            offset += n;
            step = step * 3 % 17 + 1;
        }
    }

    /// <summary>The input as LF-separated lines (the last one without its LF).</summary>
    public static List<byte[]> Lines(ReadOnlySpan<byte> data)
    {
        var lines = new List<byte[]>();
        while (true)
        {
            var lf = data.IndexOf((byte)'\n');
            if (lf < 0) { lines.Add(data.ToArray()); return lines; }
            lines.Add(data[..lf].ToArray());
            data = data[(lf + 1)..];
        }
    }
}
