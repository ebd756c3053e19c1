using System.Security.Cryptography;
using Jsmail.Common.Message;
using Jsmail.Common.Os;

namespace Jsmail.Common.Dkim;

/// <summary>
/// A message read twice (once to hash, once to copy) without being held in
/// memory: a file from a start offset (jsmail-remote gives jsmail-dkimsign the
/// queue file or a memfd; jsmail-rspawn's pool signs its copy of the queue
/// file's descriptor), or whatever else a descriptor holds, first copied into a memfd.
/// </summary>
public sealed class SpooledMessage : IDisposable
{
    private const int Chunk = 65536;
    private readonly int _fd;
    private readonly long _start;
    private readonly bool _owned;
    private readonly byte[] _buffer = new byte[Chunk];

    private SpooledMessage(int fd, long start, bool owned) { _fd = fd; _start = start; _owned = owned; }

    /// <summary>
    /// The message on <paramref name="fd"/> from where it stands: the
    /// descriptor itself when it is a file, else a memfd it is first copied into.
    /// </summary>
    public static SpooledMessage Open(int fd)
    {
        if (Libc.Fstat(fd, out var st) == 0 && st.IsRegular && Libc.Lseek(fd, 0, 1) is var at && at >= 0)
            return new SpooledMessage(fd, at, owned: false);
        var spool = Libc.MemfdCreate("jsmail-dkimsign", Libc.MFD_CLOEXEC);
        if (spool < 0) throw new DkimSignerException("unable to make a memfd: " + ErrorText.Describe(Libc.Errno));
        var input = new SpooledMessage(spool, 0, owned: true);
        input.Copy(fd, spool);
        return input;
    }

    /// <summary>The message in the file <paramref name="fd"/> from <paramref name="start"/> on; the descriptor stays the caller's.</summary>
    public static SpooledMessage At(int fd, long start) => new(fd, start, owned: false);

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
            if (n < 0) throw new DkimSignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
            if (n == 0) return true;
            if (!Libc.WriteAll(to, _buffer.AsSpan(0, n))) return false;
        }
    }

    private int Read()
    {
        var n = Libc.Read(_fd, _buffer);
        return n >= 0 ? n : throw new DkimSignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
    }

    private void Seek(long offset)
    {
        if (Libc.Lseek(_fd, _start + offset, 0) < 0)
            throw new DkimSignerException("unable to read message: " + ErrorText.Describe(Libc.Errno));
    }

    /// <summary>Closes the memfd a message not in a file was copied into; a descriptor given stays open.</summary>
    public void Dispose()
    {
        if (_owned) Libc.Close(_fd);
    }

    private sealed class HashSink(IncrementalHash hash) : IByteSink
    {
        public void Write(ReadOnlySpan<byte> bytes) => hash.AppendData(bytes);
    }
}
