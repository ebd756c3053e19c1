using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp;

namespace Jsmail.Common.Remote;

/// <summary>The connection died (EOF, timeout, reset): qmail reports it as one thing.</summary>
public sealed class ConnectionDiedException : Exception;

/// <summary>The TLS handshake after STARTTLS failed; the connection is unusable.</summary>
public sealed class TlsFailedException(string reason) : Exception(reason);

/// <summary>
/// A connected SMTP socket: lines out with CRLF, replies in, every read and
/// write under timeoutremote; after STARTTLS the same over an SslStream.
/// The socket is a plain libc fd (Libc.Net.cs says why).
/// </summary>
public sealed class SmtpConnection : IDisposable
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(16384); // only what is read is used
    private int _start, _end;
    private readonly ServerReplyParser _parser = new();
    private readonly int _fd;
    private readonly FdStream _plain;
    private Stream _stream;

    public SmtpConnection(int fd, int timeoutSeconds)
    {
        _fd = fd;
        _stream = _plain = new FdStream(fd, fd, timeoutSeconds);
    }

    /// <summary>What this connection must establish before MAIL (set by the caller that chose the peer).</summary>
    public PeerSecurity Security { get; init; } = PeerSecurity.None;

    public bool Encrypted => _stream is SslStream;

    /// <summary>Our end's address, as TLS reports give it (RFC 8460's sending-mta-ip); null when the socket will not say.</summary>
    public IPAddress? LocalAddress => Libc.LocalAddress(_fd);

    /// <summary>
    /// A non-blocking connect bounded by poll(2) (timeoutconnect), from
    /// <paramref name="source"/> when one is configured; the fd is blocking again
    /// when returned, with TCP_NODELAY. -1 when the peer could not be reached; <paramref name="timedOut"/>
    /// says whether it was a timeout (for the tcpto table).
    /// </summary>
    public static int Connect(IPAddress ip, int port, IPAddress? source, int timeoutSeconds, out bool timedOut)
    {
        timedOut = false;
        var fd = Libc.Socket(Libc.FamilyOf(ip), Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (source != null && source.AddressFamily == ip.AddressFamily && Libc.Bind(fd, source) != 0)
        {
            Libc.Close(fd);
            return -1;
        }
        if (Libc.Connect(fd, ip, port) == 0 || Libc.Errno == Errno.EINPROGRESS)
        {
            Span<Libc.PollFd> p = [new Libc.PollFd { Fd = fd, Events = Libc.POLLOUT }];
            if (Libc.Poll(p, (int)Math.Min(Math.Max(timeoutSeconds, 0) * 1000L, int.MaxValue)) <= 0) timedOut = true;
            else if (Libc.SocketError(fd) is var error && error != 0) timedOut = error == Errno.ETIMEDOUT;
            // No Nagle: a small write (a command group, the last block of the message) must not wait for the
            // peer's delayed ACK of the previous one (40 ms on Linux), which it holds back while it waits for more
            else if (Libc.SetBlocking(fd, true) == 0 && Libc.SetNoDelay(fd) == 0) return fd;
        }
        Libc.Close(fd);
        return -1;
    }

    public void SetTimeout(int seconds) => _plain.TimeoutSeconds = seconds;

    public void Send(ReadOnlySpan<byte> bytes)
    {
        try { _stream.Write(bytes); }
        catch (IOException) { throw new ConnectionDiedException(); }
        catch (ObjectDisposedException) { throw new ConnectionDiedException(); }
    }

    public void Command(string line) => Send(System.Text.Encoding.Latin1.GetBytes(line + "\r\n"));

    public void Command(ReadOnlySpan<byte> head, ReadOnlySpan<byte> address, ReadOnlySpan<byte> tail) =>
        Send(Line(head, address, tail));

    /// <summary>head + address + tail + CRLF, for sending now or in a pipelined group.</summary>
    public static byte[] Line(ReadOnlySpan<byte> head, ReadOnlySpan<byte> address, ReadOnlySpan<byte> tail)
    {
        var line = new byte[head.Length + address.Length + tail.Length + 2];
        head.CopyTo(line);
        address.CopyTo(line.AsSpan(head.Length));
        tail.CopyTo(line.AsSpan(head.Length + address.Length));
        line[^2] = (byte)'\r';
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>
    /// Turns the connection into TLS (after the peer's 220 to STARTTLS).
    /// Bytes the peer sent before the handshake are dropped (RFC 3207 §5:
    /// nothing from the plaintext phase may be taken as said under TLS).
    /// </summary>
    public void StartTls(SslClientAuthenticationOptions options)
    {
        _start = _end = 0;
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: true);
        try { ssl.AuthenticateAsClient(options); }
        catch (AuthenticationException e) { throw new TlsFailedException(Reason(e)); }
        catch (IOException e) { throw new TlsFailedException(Reason(e)); }
        _stream = ssl;
    }

    private static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException != null) inner = inner.InnerException;
        var text = inner == e ? e.Message : $"{e.Message} ({inner.Message})";
        return text.Replace('\n', ' ').Replace('\r', ' ').TrimEnd('.', ' ');
    }

    public ServerReply ReadReply()
    {
        while (true)
        {
            var reply = _parser.Add(ReadLine());
            if (reply != null) return reply;
        }
    }

    /// <summary>One line without its LF; a long line is cut (the parser keeps 5000 bytes) but read to its end.</summary>
    private byte[] ReadLine()
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end) Fill();
            var span = _buffer.AsSpan(_start, _end - _start);
            var lf = span.IndexOf((byte)'\n');
            var take = lf < 0 ? span.Length : lf;
            if (line.Count < ServerReplyParser.MaxLine + 1)
                line.AddRange(span[..Math.Min(take, ServerReplyParser.MaxLine + 1 - line.Count)].ToArray());
            _start += lf < 0 ? take : take + 1;
            if (lf >= 0) return line.ToArray();
        }
    }

    private void Fill()
    {
        try
        {
            var n = _stream.Read(_buffer);
            if (n <= 0) throw new ConnectionDiedException();
            _start = 0;
            _end = n;
        }
        catch (IOException) { throw new ConnectionDiedException(); }
        catch (ObjectDisposedException) { throw new ConnectionDiedException(); }
    }

    public void Dispose()
    {
        _stream.Dispose();
        Libc.Close(_fd);
    }
}
