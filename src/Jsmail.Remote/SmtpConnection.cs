using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Jsmail.Common.Smtp;

namespace Jsmail.Remote;

/// <summary>The connection died (EOF, timeout, reset): qmail reports it as one thing.</summary>
internal sealed class ConnectionDiedException : Exception;

/// <summary>The TLS handshake after STARTTLS failed; the connection is unusable.</summary>
internal sealed class TlsFailedException(string reason) : Exception(reason);

/// <summary>
/// A connected SMTP socket: lines out with CRLF, replies in, every read and
/// write under timeoutremote; after STARTTLS the same over an SslStream.
/// </summary>
internal sealed class SmtpConnection(Socket socket) : IDisposable
{
    private readonly byte[] _buffer = new byte[16384];
    private int _start, _end;
    private readonly ServerReplyParser _parser = new();
    private Stream _stream = new NetworkStream(socket, ownsSocket: true);

    /// <summary>What this connection must establish before MAIL (set by the caller that chose the peer).</summary>
    public PeerSecurity Security { get; init; } = PeerSecurity.None;

    public bool Encrypted => _stream is SslStream;

    public static Socket? Connect(IPAddress ip, int port, int timeoutSeconds, out bool timedOut)
    {
        timedOut = false;
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
            socket.ConnectAsync(new IPEndPoint(ip, port), cts.Token).AsTask().GetAwaiter().GetResult();
            return socket;
        }
        catch (OperationCanceledException) { timedOut = true; }
        catch (SocketException e) { timedOut = e.SocketErrorCode == SocketError.TimedOut; }
        socket.Dispose();
        return null;
    }

    public void SetTimeout(int seconds)
    {
        socket.ReceiveTimeout = seconds * 1000;
        socket.SendTimeout = seconds * 1000;
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        try { _stream.Write(bytes); }
        catch (IOException) { throw new ConnectionDiedException(); }
        catch (SocketException) { throw new ConnectionDiedException(); }
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
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        try { ssl.AuthenticateAsClient(options); }
        catch (AuthenticationException e) { throw new TlsFailedException(Reason(e)); }
        catch (IOException e) { throw new TlsFailedException(Reason(e)); }
        catch (SocketException e) { throw new TlsFailedException(e.Message); }
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
        catch (SocketException) { throw new ConnectionDiedException(); }
        catch (ObjectDisposedException) { throw new ConnectionDiedException(); }
    }

    public void Dispose() => _stream.Dispose();
}
