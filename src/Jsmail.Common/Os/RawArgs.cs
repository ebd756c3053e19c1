namespace Jsmail.Common.Os;

/// <summary>
/// The program's argv as the kernel holds it, argv[0] included. .NET hands
/// arguments over decoded as UTF-8, which loses bytes that are not; qmail
/// programs take addresses from argv, and argv[0]'s base name decides what
/// sendmail does (mailq, newaliases).
/// </summary>
public static unsafe class RawArgs
{
    public static List<byte[]> Read()
    {
        using var cmdline = OwnedFd.Open("/proc/self/cmdline", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (!cmdline.IsOpen) return FromRuntime();
        return FdRead.AllOrNull(cmdline.Fd) is { } data ? Split(data) : FromRuntime();
    }

    /// <summary>Splits /proc/self/cmdline: each argument ends with NUL.</summary>
    public static List<byte[]> Split(ReadOnlySpan<byte> cmdline)
    {
        var args = new List<byte[]>();
        while (!cmdline.IsEmpty)
        {
            var nul = cmdline.IndexOf((byte)0);
            if (nul < 0) { args.Add(cmdline.ToArray()); break; }
            args.Add(cmdline[..nul].ToArray());
            cmdline = cmdline[(nul + 1)..];
        }
        return args;
    }

    private static List<byte[]> FromRuntime() =>
        System.Environment.GetCommandLineArgs().Select(a => System.Text.Encoding.UTF8.GetBytes(a)).ToList();
}
