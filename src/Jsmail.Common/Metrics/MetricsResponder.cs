using System.Net;
using System.Net.Sockets;
using System.Text;
using Prometheus;

namespace Jsmail.Common.Metrics;

/// <summary>
/// The HTTP/1.1 side of a program's metrics (docs/metrics.md): answers
/// <c>GET /metrics</c> (and HEAD) with the registry in Prometheus's text
/// format, version 0.0.4, one request per connection. Async on the thread
/// pool, beside whatever loop the program runs: a scrape reads counters the
/// program updates with atomic operations and never waits for that loop. At
/// most <see cref="MaxClients"/> at once, each dropped after
/// <see cref="ClientSeconds"/>; a request head larger than
/// <see cref="MaxRequestBytes"/> gets 431. Not prometheus-net's own
/// MetricServer: that one (HttpListener) answers OpenMetrics when asked and
/// bounds neither clients nor time.
/// </summary>
public sealed class MetricsResponder : IDisposable
{
    public const int MaxClients = 8, MaxRequestBytes = 8192, ClientSeconds = 10;

    private readonly Socket _listener;
    private readonly CollectorRegistry _registry;
    private readonly SemaphoreSlim _slots = new(MaxClients);
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The address it listens on (the port the kernel chose for port 0).</summary>
    public IPEndPoint Endpoint { get; }

    private MetricsResponder(Socket listener, CollectorRegistry registry)
    {
        _listener = listener;
        _registry = registry;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
    }

    /// <summary>Binds and starts answering; throws <see cref="SocketException"/> when the address cannot be had.</summary>
    public static MetricsResponder Start(IPEndPoint at, CollectorRegistry registry)
    {
        var s = new Socket(at.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (at.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
            s.Bind(at);
            s.Listen(16);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        var responder = new MetricsResponder(s, registry);
        _ = Task.Run(responder.AcceptLoopAsync);
        return responder;
    }

    /// <summary>The registry's exposition, as a scrape gets it.</summary>
    public static async Task<byte[]> RenderAsync(CollectorRegistry registry, CancellationToken cancel = default)
    {
        using var body = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(body, ExpositionFormat.PrometheusText, cancel);
        return body.ToArray();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _slots.WaitAsync();
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException) { return; }
            catch (SocketException)
            {
                _slots.Release();
                await Task.Delay(100); // out of descriptors: let a connection end first
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            deadline.CancelAfter(TimeSpan.FromSeconds(ClientSeconds));
            var head = await ReadHeadAsync(client, deadline.Token);
            var request = MetricsRequest.Parse(head);
            var body = request == MetricsRequest.Kind.Metrics || request == MetricsRequest.Kind.MetricsHead
                ? await RenderAsync(_registry, deadline.Token) : null;
            await client.SendAsync(MetricsRequest.Response(request, body), SocketFlags.None, deadline.Token);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException) { }
        finally
        {
            client.Dispose();
            _slots.Release();
        }
    }

    /// <summary>The request up to its blank line; what it has when the client stops sending or the limit is reached.</summary>
    private static async Task<byte[]> ReadHeadAsync(Socket client, CancellationToken cancel)
    {
        var buffer = new byte[MaxRequestBytes + 1];
        var used = 0;
        while (used < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, cancel);
            if (n == 0) break;
            used += n;
            if (buffer.AsSpan(0, used).IndexOf("\r\n\r\n"u8) >= 0 || buffer.AsSpan(0, used).IndexOf("\n\n"u8) >= 0) break;
        }
        return buffer[..used];
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
