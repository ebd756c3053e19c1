using System.Security.Cryptography;
using Jsmail.Common.Message;
using Jsmail.Common.Os;

namespace Jsmail.DkimSign;

/// <summary>
/// The message on fd 0, read twice (once to hash, once to copy) without
/// being held in memory: fd 0 itself when it is a file (jsmail-remote gives
/// the queue file or a memfd), else a memfd it is first copied into.
/// </summary>
internal sealed class SpooledMessage : IDisposable
{
    private const int Chunk = 65536;
    private readonly int _fd;
    private readonly long _start;
    private readonly byte[] _buffer = new byte[Chunk];

    private SpooledMessage(int fd, long start) { _fd = fd; _start = start; }

    public static SpooledMessage Open()
    {
        if (Libc.Fstat(0, out var st) == 0 && st.IsRegular && Libc.Lseek(0, 0, 1) is var at && at >= 0)
            return new SpooledMessage(0, at);
        var spool = Libc.MemfdCreate("jsmail-dkimsign", Libc.MFD_CLOEXEC);
        if (spool < 0) throw new SignerException("unable to make a memfd: " + ErrorText.Describe(Libc.Errno));
        var input = new SpooledMessage(spool, 0);
        input.Copy(0, spool);
        return input;
    }

    /// <summary>
    /// The header, up to and including the empty line that ends it. Lines end
    /// as jsmail-remote ends them on the wire: LF, CRLF or a lone CR.
    /// </summary>
    public byte[] ReadHeader()
    {
        Seek(0);
        var header = new MemoryStream();
        var reader = new HeaderReader(HeaderLineEnds.LfCrlfOrCr, lineLimit: 0); // only where it ends matters here
        while (!reader.Done)
        {
            var n = Read();
            if (n == 0) { reader.Finish(AnyLine); break; }
            header.Write(_buffer, 0, reader.Feed(_buffer.AsSpan(0, n), AnyLine));
        }
        return header.ToArray();
    }

    private static bool AnyLine(ReadOnlySpan<byte> line) => true;

    /// <summary>SHA-256 of the relaxed body (everything after the header).</summary>
    public byte[] HashBody(long bodyStart)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var body = new RelaxedBody(new HashSink(hash));
        Seek(bodyStart);
        int n;
        while ((n = Read()) > 0) body.Feed(_buffer.AsSpan(0, n));
        body.Finish();
        return hash.GetHashAndReset();
    }

    /// <summary>Writes <paramref name="prefix"/> then the message as it came; false on a write error.</summary>
    public bool CopyTo(int fd, ReadOnlySpan<byte> prefix)
    {
        if (!prefix.IsEmpty && !Libc.WriteAll(fd, prefix)) return false;
        Seek(0);
        return Copy(_fd, fd);
    }

    private bool Copy(int from, int to)
    {
        while (true)
        {
            var n = Libc.Read(from, _buffer);
            if (n < 0) throw new SignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
            if (n == 0) return true;
            if (!Libc.WriteAll(to, _buffer.AsSpan(0, n))) return false;
        }
    }

    private int Read()
    {
        var n = Libc.Read(_fd, _buffer);
        return n >= 0 ? n : throw new SignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
    }

    private void Seek(long offset)
    {
        if (Libc.Lseek(_fd, _start + offset, 0) < 0)
            throw new SignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
    }

    public void Dispose()
    {
        if (_fd != 0) Libc.Close(_fd);
    }

    private sealed class HashSink(IncrementalHash hash) : IByteSink
    {
        public void Write(ReadOnlySpan<byte> bytes) => hash.AppendData(bytes);
    }
}
