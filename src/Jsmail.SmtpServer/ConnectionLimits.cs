using System.Net;

namespace Jsmail.SmtpServer;

/// <summary>Why a connection is turned away before its greeting.</summary>
public enum Admission { Admitted, GlobalLimit, PerIpLimit, PerIpRate }

/// <summary>
/// The connection limits tcpserver's -c sets, plus the per-client ones Postfix
/// has (smtpd_client_connection_count_limit and _rate_limit): a pure count,
/// given the time by its caller, so it is tested without sockets or clocks.
/// Used from the accept loops and the connections' ends under one lock.
/// </summary>
/// <param name="global">at most this many sessions at once (tcpserver -c)</param>
/// <param name="perIp">at most this many at once from one address; 0: no limit</param>
/// <param name="ratePerMinute">at most this many new connections from one address in any minute; 0: no limit</param>
public sealed class ConnectionLimits(int global, int perIp, int ratePerMinute)
{
    private const long WindowMs = 60_000;

    private readonly Dictionary<IPAddress, int> _open = new();
    private readonly Dictionary<IPAddress, Queue<long>> _recent = new();
    private readonly object _lock = new();

    public int Global => global;
    public int Open { get; private set; }

    /// <summary>Counts the connection in when it is admitted; <see cref="Release"/> counts it out.</summary>
    public Admission TryAdmit(IPAddress client, long nowMs)
    {
        lock (_lock)
        {
            if (Open >= global) return Admission.GlobalLimit;
            _open.TryGetValue(client, out var fromClient);
            if (perIp > 0 && fromClient >= perIp) return Admission.PerIpLimit;
            if (ratePerMinute > 0)
            {
                if (!_recent.TryGetValue(client, out var times)) _recent[client] = times = new Queue<long>();
                while (times.Count > 0 && nowMs - times.Peek() >= WindowMs) times.Dequeue();
                if (times.Count >= ratePerMinute) return Admission.PerIpRate;
                times.Enqueue(nowMs);
            }
            _open[client] = fromClient + 1;
            Open++;
            return Admission.Admitted;
        }
    }

    public void Release(IPAddress client)
    {
        lock (_lock)
        {
            Open--;
            if (_open.TryGetValue(client, out var n) && n > 1) _open[client] = n - 1;
            else _open.Remove(client);
        }
    }

    /// <summary>Forgets rate windows that have run out, so that many one-time clients do not grow the table.</summary>
    public void Sweep(long nowMs)
    {
        if (ratePerMinute <= 0) return;
        lock (_lock)
        {
            List<IPAddress>? idle = null;
            foreach (var (ip, times) in _recent)
            {
                while (times.Count > 0 && nowMs - times.Peek() >= WindowMs) times.Dequeue();
                if (times.Count == 0) (idle ??= []).Add(ip);
            }
            if (idle != null) foreach (var ip in idle) _recent.Remove(ip);
        }
    }

    /// <summary>The reply before the close: 421 with RFC 3463's "system not accepting network messages".</summary>
    public static byte[] RefusalReply(Admission why) => why switch
    {
        Admission.GlobalLimit => "421 4.7.0 too many connections, try again later\r\n"u8.ToArray(),
        Admission.PerIpLimit => "421 4.7.0 too many connections from your address, try again later\r\n"u8.ToArray(),
        _ => "421 4.7.0 too many connections from your address in the last minute, try again later\r\n"u8.ToArray(),
    };
}
