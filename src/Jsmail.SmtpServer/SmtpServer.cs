using System.Net.Sockets;
using System.Runtime.InteropServices;
using Jsmail.Common.Tcp;

namespace Jsmail.SmtpServer;

/// <summary>
/// The listening sockets and their accept loops, and the server's life:
/// SIGHUP re-reads the files without touching sessions in progress; SIGTERM
/// (and SIGINT) stop the accepting, let the sessions finish until the stop
/// deadline, then end those still open, and the server exits 0.
/// </summary>
public sealed class SmtpServer(ServerOptions options, ServerState state, IReadOnlyList<(Socket Socket, ListenAddress Address)> listeners,
    ServerLog log)
{
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Binds every address (before the privileges are dropped); throws SocketException for the first that fails.</summary>
    public static List<(Socket, ListenAddress)> Bind(IReadOnlyList<ListenAddress> addresses)
    {
        var bound = new List<(Socket, ListenAddress)>();
        try
        {
            foreach (var a in addresses)
            {
                var s = new Socket(a.Ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                bound.Add((s, a));
                s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                // An IPv6 address means IPv6 only: IPv4 clients come through their own --listen.
                if (a.Ip.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
                s.Bind(a.EndPoint);
                s.Listen(1024);
            }
            return bound;
        }
        catch
        {
            foreach (var (s, _) in bound) s.Dispose();
            throw;
        }
    }

    public async Task<int> RunAsync()
    {
        var limits = new ConnectionLimits(options.MaxConnections, options.MaxPerIp, options.MaxRatePerIp);
        using var sweeper = new DeadlineSweeper();
        var handler = new ConnectionHandler(options, state, limits, sweeper, log);

        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            var problem = state.Reload();
            log.Server(problem == null ? "reloaded control files and rules" : $"reload: {problem}");
        });
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        var loops = listeners.Select(l => AcceptLoopAsync(l.Socket, l.Address, handler)).ToArray();
        foreach (var (_, a) in listeners) log.Server($"listening on {a}");
        await _stop.Task;

        foreach (var (s, _) in listeners) s.Dispose();
        await Task.WhenAll(loops);
        log.Server($"stopping: {limits.Open} sessions open");
        if (Volatile.Read(ref _active) > 0 &&
            await Task.WhenAny(_idle.Task, Task.Delay(TimeSpan.FromSeconds(options.StopSeconds))) != _idle.Task)
        {
            log.Server("stop deadline passed: ending the sessions still open");
            sweeper.StopAll();
            await Task.WhenAny(_idle.Task, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        log.Server("exiting");
        return 0;
    }

    private void Stop(PosixSignalContext c)
    {
        c.Cancel = true;
        _stop.TrySetResult();
    }

    private async Task AcceptLoopAsync(Socket listener, ListenAddress address, ConnectionHandler handler)
    {
        while (!_stop.Task.IsCompleted)
        {
            Socket client;
            try { client = await listener.AcceptAsync(); }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted) { return; }
            catch (SocketException e)
            {
                // Out of descriptors or memory: say so, and let a session end before trying again.
                log.Server($"accept on {address}: {e.Message}");
                await Task.Delay(100);
                continue;
            }
            Interlocked.Increment(ref _active);
            _ = ServeAsync(handler, client, address);
        }
    }

    private async Task ServeAsync(ConnectionHandler handler, Socket client, ListenAddress address)
    {
        try { await handler.ServeAsync(client, address); }
        catch (Exception e)
        {
            // A fault in one session must not end the others.
            log.Server($"session failed: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            if (Interlocked.Decrement(ref _active) == 0 && _stop.Task.IsCompleted) _idle.TrySetResult();
        }
    }
}
