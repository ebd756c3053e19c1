namespace Jsmail.Common.Os;

/// <summary>
/// argv as the bytes the program was given. .NET decodes argv as UTF-8 and
/// replaces what is not; mail addresses are bytes and must arrive unchanged.
/// </summary>
public static class RawArgs
{
    /// <summary>argv[1..] from /proc/self/cmdline; null if it cannot be read.</summary>
    public static byte[][]? Read()
    {
        byte[] all;
        try { all = File.ReadAllBytes("/proc/self/cmdline"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        return Split(all).Skip(1).ToArray();
    }

    /// <summary>Pure: NUL-terminated strings of a cmdline buffer.</summary>
    public static List<byte[]> Split(ReadOnlySpan<byte> cmdline)
    {
        var list = new List<byte[]>();
        while (!cmdline.IsEmpty)
        {
            var nul = cmdline.IndexOf((byte)0);
            if (nul < 0) { list.Add(cmdline.ToArray()); break; }
            list.Add(cmdline[..nul].ToArray());
            cmdline = cmdline[(nul + 1)..];
        }
        return list;
    }
}
