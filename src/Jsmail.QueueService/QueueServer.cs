using Jsmail.Common.Os;

namespace Jsmail.QueueService;

/// <summary>
/// Accepts clients on the listening socket and serves each on a thread of
/// its own (clients are few and long-lived: server-mode jsmail-smtpd keeps a
/// small pool). A peer whose uid is not allowed (SO_PEERCRED) is dropped at
/// once, without a word; so is any connection past <see cref="MaxConnections"/>.
/// <see cref="Stop"/> ends the accepting and every connection's reading; the
/// requests already sent are finished before <see cref="Run"/> returns.
/// </summary>
public sealed class QueueServer(int listener, IReadOnlySet<uint> allowedUids, MessageIntake intake)
{
    public const int MaxConnections = 512;

    private readonly object _lock = new();
    private readonly HashSet<ServiceConnection> _live = [];
    private volatile bool _stopping;

    /// <summary>Serves until <see cref="Stop"/>, then waits for every connection to finish.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            var fd = Libc.Accept(listener);
            if (fd < 0)
            {
                if (_stopping) break;
                if (Libc.Errno is Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM) Thread.Sleep(100);
                continue;
            }
            Admit(fd);
        }
        lock (_lock)
            while (_live.Count > 0) Monitor.Wait(_lock);
    }

    private void Admit(int fd)
    {
        var peer = Libc.PeerCredentialsOf(fd);
        if (peer is not { } credentials || !allowedUids.Contains(credentials.Uid))
        {
            Console.Error.WriteLine($"jsmail-queued: refused a client with uid {(peer is { } p ? p.Uid.ToString() : "unknown")}");
            Libc.Close(fd);
            return;
        }
        var connection = new ServiceConnection(fd, credentials, intake);
        lock (_lock)
        {
            if (_stopping || _live.Count >= MaxConnections)
            {
                Libc.Close(fd);
                return;
            }
            _live.Add(connection);
        }
        new Thread(() => Serve(connection)) { Name = "connection", IsBackground = true }.Start();
    }

    private void Serve(ServiceConnection connection)
    {
        try { connection.Serve(); }
        catch (Exception e) { Console.Error.WriteLine("jsmail-queued: connection failed: " + e.Message); }
        finally
        {
            lock (_lock)
            {
                _live.Remove(connection);
                Libc.Close(connection.Socket);
                Monitor.PulseAll(_lock);
            }
        }
    }

    /// <summary>From the SIGTERM handler: no new clients, no new requests; what was sent is finished.</summary>
    public void Stop()
    {
        _stopping = true;
        Libc.Shutdown(listener, Libc.SHUT_RDWR); // wakes the blocked accept
        lock (_lock)
            foreach (var c in _live) Libc.Shutdown(c.Socket, Libc.SHUT_RD);
    }
}
