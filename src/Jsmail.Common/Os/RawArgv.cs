namespace Jsmail.Common.Os;

/// <summary>
/// The process's argv and environment as the kernel holds them, bytes and all:
/// mail addresses and local parts need not be UTF-8, and .NET's string args
/// would replace what is not.
/// </summary>
public static unsafe class RawArgv
{
    /// <summary>argv, argv[0] included.</summary>
    public static byte[][] Arguments() => Split(File.ReadAllBytes("/proc/self/cmdline"));

    /// <summary>
    /// The environment, each "NAME=value", from libc's environ: /proc/self/environ
    /// is unreadable in a process that changed its ids before exec.
    /// </summary>
    public static byte[][] Environment()
    {
        var environ = *(byte***)System.Runtime.InteropServices.NativeLibrary.GetExport(
            System.Runtime.InteropServices.NativeLibrary.Load("libc.so.6"), "environ");
        var list = new List<byte[]>();
        for (var e = environ; e != null && *e != null; e++)
            list.Add(System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated(*e).ToArray());
        return list.ToArray();
    }

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
