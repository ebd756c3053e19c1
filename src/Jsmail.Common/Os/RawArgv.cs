namespace Jsmail.Common.Os;

/// <summary>
/// The process's argv and environment as the kernel holds them, bytes and all:
/// mail addresses and local parts need not be UTF-8, and .NET's string args
/// would replace what is not.
/// </summary>
public static class RawArgv
{
    /// <summary>argv, argv[0] included.</summary>
    public static byte[][] Arguments() => Split(File.ReadAllBytes("/proc/self/cmdline"));

    /// <summary>The environment the program was started with, each "NAME=value".</summary>
    public static byte[][] Environment() => Split(File.ReadAllBytes("/proc/self/environ"));

    /// <summary>NUL-terminated strings; a missing final NUL ends the last one all the same.</summary>
    public static byte[][] Split(ReadOnlySpan<byte> block)
    {
        var list = new List<byte[]>();
        while (!block.IsEmpty)
        {
            var nul = block.IndexOf((byte)0);
            if (nul < 0) { list.Add(block.ToArray()); break; }
            list.Add(block[..nul].ToArray());
            block = block[(nul + 1)..];
        }
        return list.ToArray();
    }
}
