namespace Jsmail.Common.Os;

/// <summary>Reads what is left of a descriptor into memory (queue and control files: small by nature).</summary>
public static class FdRead
{
    /// <exception cref="IOException">read(2) failed</exception>
    public static byte[] All(int fd) => AllOrNull(fd) ?? throw new IOException(ErrorText.Describe(Libc.Errno));

    /// <summary>Everything up to EOF, or null when read(2) failed (Libc.Errno says why).</summary>
    public static byte[]? AllOrNull(int fd)
    {
        var ms = new MemoryStream();
        Span<byte> buf = stackalloc byte[8192];
        while (true)
        {
            var n = Libc.Read(fd, buf);
            if (n < 0) return null;
            if (n == 0) return ms.ToArray();
            ms.Write(buf[..n]);
        }
    }
}
