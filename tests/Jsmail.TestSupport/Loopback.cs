using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Jsmail.TestSupport;

/// <summary>Ports on 127.0.0.1 for the real servers tests start (tcpserver, smtp-sink, peers).</summary>
public static class Ports
{
    /// <summary>A port nothing listens on now (the kernel's choice, released at once).</summary>
    public static int Free()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static bool Listening(int port) => Listening(IPAddress.Loopback, port);

    public static bool Listening(IPAddress address, int port)
    {
        try
        {
            using var c = new TcpClient(address.AddressFamily);
            c.Connect(address, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    /// <summary>Waits (bounded) for <paramref name="server"/> to listen on <paramref name="port"/>, or throws.</summary>
    public static void WaitForListener(int port, string server, int seconds = 5) => WaitForListener(IPAddress.Loopback, port, server, seconds);

    /// <summary>The same on another loopback address (an exchanger on port 25 of 127.0.0.x).</summary>
    public static void WaitForListener(IPAddress address, int port, string server, int seconds = 5)
    {
        if (!Wait.Until(() => Listening(address, port), seconds, pollMs: 50))
            throw new InvalidOperationException($"{server} did not listen");
    }
}

public static class Wait
{
    /// <summary>Polls <paramref name="done"/> until it holds or <paramref name="seconds"/> pass.</summary>
    public static bool Until(Func<bool> done, int seconds, int pollMs = 100)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            if (done()) return true;
            Thread.Sleep(pollMs);
        }
        return done();
    }
}
