namespace Jsmail.Common.Os;

/// <summary>Reads what is left of a descriptor into memory (queue files: small by nature).</summary>
public static class FdRead
{
    /// <exception cref="IOException">read(2) failed</exception>
    public static byte[] All(int fd)
    {
        var ms = new MemoryStream();
        Span<byte> buf = stackalloc byte[8192];
        while (true)
        {
            var n = Libc.Read(fd, buf);
            if (n < 0) throw new IOException(ErrorText.Describe(Libc.Errno));
            if (n == 0) return ms.ToArray();
            ms.Write(buf[..n]);
        }
    }
}
