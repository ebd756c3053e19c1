using System.Net;

namespace Jsmail.Common.Tcp;

/// <summary>Why a connection was not admitted; <see cref="None"/> when it was.</summary>
public enum ConnectionLimit
{
    None,
    /// <summary>The server holds its maximum of connections (tcpserver -c).</summary>
    Global,
    /// <summary>The client's address holds its maximum of concurrent connections.</summary>
    PerClient,
    /// <summary>The client's address was admitted its maximum of times in the last minute.</summary>
    PerClientRate,
}

/// <summary>
/// The connection limits of server mode: how many connections at once, how
/// many at once from one client address, and how many a client address may
/// open per minute. A pure counter: the server asks before it serves a
/// connection and releases the connection when it ends. Safe to call from
/// several threads.
/// </summary>
/// <remarks>
/// A limit of 0 is no limit. Only admitted connections count, refused ones
/// neither hold a place nor use up the rate, so a client refused for its rate
/// gets in again one minute after its oldest counted admission. The rate is a
/// sliding minute kept as a queue of admission times, so the memory held is
/// the admissions of the last minute plus the open connections, and each call
/// costs constant time (amortised). An IPv4-mapped address counts as its IPv4
/// address.
/// </remarks>
public sealed class ConnectionLimits(int maxConnections, int maxPerClient, int maxPerClientPerMinute)
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    private sealed class Client
    {
        public int Open;
        public int RecentAdmissions;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Client> _clients = [];
    private readonly Queue<(IPAddress Address, TimeSpan At)> _recent = new();
    private int _open;

    /// <summary>Connections admitted and not yet released.</summary>
    public int Open { get { lock (_lock) return _open; } }

    /// <summary>Connections admitted from <paramref name="address"/> and not yet released.</summary>
    public int OpenFrom(IPAddress address)
    {
        lock (_lock) return _clients.TryGetValue(TcpAddressText.Unmapped(address), out var c) ? c.Open : 0;
    }

    /// <summary>Client addresses held in memory: those with open connections or admissions in the last minute.</summary>
    internal int TrackedClients { get { lock (_lock) return _clients.Count; } }

    /// <summary>
    /// Admits a connection from <paramref name="address"/> at <paramref name="now"/>
    /// (a monotonic clock reading) unless a limit forbids it; the limits are
    /// tried in the order of <see cref="ConnectionLimit"/>.
    /// </summary>
    /// <returns><see cref="ConnectionLimit.None"/> when admitted (then <see cref="Release"/> it once), else the limit reached</returns>
    public ConnectionLimit TryAdmit(IPAddress address, TimeSpan now)
    {
        address = TcpAddressText.Unmapped(address);
        lock (_lock)
        {
            Forget(now - RateWindow);
            if (maxConnections > 0 && _open >= maxConnections) return ConnectionLimit.Global;
            _clients.TryGetValue(address, out var client);
            if (maxPerClient > 0 && client?.Open >= maxPerClient) return ConnectionLimit.PerClient;
            if (maxPerClientPerMinute > 0 && client?.RecentAdmissions >= maxPerClientPerMinute) return ConnectionLimit.PerClientRate;

            if (client == null) _clients.Add(address, client = new Client());
            client.Open++;
            _open++;
            if (maxPerClientPerMinute > 0)
            {
                client.RecentAdmissions++;
                _recent.Enqueue((address, now));
            }
            return ConnectionLimit.None;
        }
    }

    /// <summary>Ends a connection that <see cref="TryAdmit"/> admitted.</summary>
    /// <exception cref="InvalidOperationException">no connection from that address is open</exception>
    public void Release(IPAddress address)
    {
        address = TcpAddressText.Unmapped(address);
        lock (_lock)
        {
            if (!_clients.TryGetValue(address, out var client) || client.Open == 0)
                throw new InvalidOperationException($"no connection from {address} to release");
            client.Open--;
            _open--;
            if (client.Open == 0 && client.RecentAdmissions == 0) _clients.Remove(address);
        }
    }

    /// <summary>Drops the admissions at or before <paramref name="cutoff"/> from the rate, and clients nothing holds any more.</summary>
    private void Forget(TimeSpan cutoff)
    {
        while (_recent.TryPeek(out var oldest) && oldest.At <= cutoff)
        {
            _recent.Dequeue();
            var client = _clients[oldest.Address];
            client.RecentAdmissions--;
            if (client.Open == 0 && client.RecentAdmissions == 0) _clients.Remove(oldest.Address);
        }
    }
}
