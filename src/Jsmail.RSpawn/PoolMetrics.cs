using Prometheus;

namespace Jsmail.RSpawn;

/// <summary>
/// The session pool's metrics (docs/metrics.md, "jsmail-rspawn"), counted by
/// the delivery threads with prometheus-net's lock-free operations.
/// </summary>
internal sealed class PoolMetrics
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private readonly Counter _opened, _reused;
    private readonly Gauge _open;

    public PoolMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _opened = f.CreateCounter("jsmail_rspawn_sessions_opened_total", "Outbound SMTP sessions the pool opened.");
        _reused = f.CreateCounter("jsmail_rspawn_sessions_reused_total", "Deliveries that took an idle pooled session instead of opening one.");
        _open = f.CreateGauge("jsmail_rspawn_sessions_open", "Sessions open or opening in the pool, idle or in a transaction.");
    }

    public void Opened()
    {
        _opened.Inc();
        _open.Inc();
    }

    public void Reused() => _reused.Inc();

    public void Closed(int sessions) => _open.Dec(sessions);
}

/// <summary>control/rspawnmetrics (docs/metrics.md): a problem is said on stderr (jsmail-send's log) and the pool runs on without metrics.</summary>
internal static class PoolMetricsEndpoint
{
    public static PoolMetrics? Start(string home, out Jsmail.Common.Metrics.MetricsResponder? responder)
    {
        responder = null;
        try
        {
            if (Jsmail.Common.Metrics.MetricsAddress.FromControl(new Jsmail.Common.Control.ControlReader(home), "rspawnmetrics", compat: false) is not { } at)
                return null;
            var metrics = new PoolMetrics();
            responder = Jsmail.Common.Metrics.MetricsResponder.Start(at, metrics.Registry);
            return metrics;
        }
        catch (Exception e) when (e is Jsmail.Common.Control.ControlReadException or Jsmail.Common.Metrics.MetricsAddressException
            or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"jsmail-rspawn: warning: no metrics: {e.Message}");
            return null;
        }
    }
}
