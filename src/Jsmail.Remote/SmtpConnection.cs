using System.Net;
using System.Net.Sockets;
using Jsmail.Common.Smtp;

namespace Jsmail.Remote;

/// <summary>The connection died (EOF, timeout, reset): qmail reports it as one thing.</summary>
internal sealed class ConnectionDiedException : Exception;

/// <summary>A connected SMTP socket: lines out with CRLF, replies in, every read and write under timeoutremote.</summary>
internal sealed class SmtpConnection(Socket socket) : IDisposable
{
    private readonly byte[] _buffer = new byte[16384];
    private int _start, _end;
    private readonly ServerReplyParser _parser = new();

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
        try
        {
            while (!bytes.IsEmpty)
            {
                var n = socket.Send(bytes);
                if (n <= 0) throw new ConnectionDiedException();
                bytes = bytes[n..];
            }
        }
        catch (SocketException) { throw new ConnectionDiedException(); }
        catch (ObjectDisposedException) { throw new ConnectionDiedException(); }
    }

    public void Command(string line) => Send(System.Text.Encoding.Latin1.GetBytes(line + "\r\n"));

    public void Command(ReadOnlySpan<byte> head, ReadOnlySpan<byte> address, ReadOnlySpan<byte> tail)
    {
        var line = new byte[head.Length + address.Length + tail.Length + 2];
        head.CopyTo(line);
        address.CopyTo(line.AsSpan(head.Length));
        tail.CopyTo(line.AsSpan(head.Length + address.Length));
        line[^2] = (byte)'\r';
        line[^1] = (byte)'\n';
        Send(line);
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
            var n = socket.Receive(_buffer);
            if (n <= 0) throw new ConnectionDiedException();
            _start = 0;
            _end = n;
        }
        catch (SocketException) { throw new ConnectionDiedException(); }
        catch (ObjectDisposedException) { throw new ConnectionDiedException(); }
    }

    public void Dispose() => socket.Dispose();
}
