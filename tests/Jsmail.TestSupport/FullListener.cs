using System.Net;
using System.Net.Sockets;

namespace Jsmail.TestSupport;

/// <summary>
/// A TCP port on 127.0.0.1 that is listened on and never accepted from: its
/// listen queue is filled first, so the kernel drops the SYN of any further
/// connect, which then hangs until the client gives up (a service too busy to
/// take a connection, without a timer in the test).
/// </summary>
public sealed class FullListener : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _fillers = new();

    public int Port { get; }

    public FullListener()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        for (var i = 0; i < 16; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _fillers.Add(s);
            using var wait = new CancellationTokenSource(1000);
            try { s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), wait.Token).AsTask().GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { return; } // this one hung: the queue is full
        }
        Dispose();
        throw new InvalidOperationException("the listen queue of a backlog-0 socket never filled");
    }

    public void Dispose()
    {
        foreach (var s in _fillers) s.Dispose();
        _listener.Dispose();
    }
}
