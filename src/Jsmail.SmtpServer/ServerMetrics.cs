using System.Security.Authentication;
using Jsmail.Common.Tcp;
using Prometheus;

namespace Jsmail.SmtpServer;

/// <summary>
/// Server mode's metrics (docs/metrics.md, "jsmail-smtpd server mode"),
/// updated by every session with prometheus-net's lock-free operations
/// (atomic adds on pre-made children: no lookup on the way of a message).
/// </summary>
public sealed class ServerMetrics
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private readonly Counter _connections, _bytes;
    private readonly Gauge _open;
    private readonly Counter _refused, _tls;
    private readonly Counter.Child _refusedGlobal, _refusedPerClient, _refusedRate, _refusedRules, _refusedControls;
    private readonly Counter.Child[] _messages = new Counter.Child[6];

    public ServerMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _connections = f.CreateCounter("jsmail_smtpd_connections_total", "Connections accepted by the listening sockets, refused ones included.");
        _open = f.CreateGauge("jsmail_smtpd_connections_open", "Sessions in progress.");
        _refused = f.CreateCounter("jsmail_smtpd_connections_refused_total",
            "Connections ended before a session: global, per_client, per_client_rate (limits), rules (tcprules deny or unreadable), controls (unreadable: 421).", "reason");
        _refusedGlobal = _refused.WithLabels("global");
        _refusedPerClient = _refused.WithLabels("per_client");
        _refusedRate = _refused.WithLabels("per_client_rate");
        _refusedRules = _refused.WithLabels("rules");
        _refusedControls = _refused.WithLabels("controls");
        var messages = f.CreateCounter("jsmail_smtpd_messages_total",
            "Messages whose DATA ended, by the class of the reply to the final dot: 2xx accepted (queued), 4xx and 5xx refused.", "class");
        for (var c = 2; c <= 5; c++) _messages[c] = messages.WithLabels($"{c}xx");
        _bytes = f.CreateCounter("jsmail_smtpd_received_bytes_total", "Bytes read from clients (after TLS decryption), commands and messages.");
        _tls = f.CreateCounter("jsmail_smtpd_tls_handshakes_total", "TLS sessions established (STARTTLS or smtps), by protocol version.", "version");
    }

    public void Accepted() => _connections.Inc();

    public void Refused(ConnectionLimit limit) => (limit switch
    {
        ConnectionLimit.Global => _refusedGlobal,
        ConnectionLimit.PerClient => _refusedPerClient,
        _ => _refusedRate,
    }).Inc();

    public void RefusedByRules() => _refusedRules.Inc();
    public void RefusedForControls() => _refusedControls.Inc();

    public void SessionStarted() => _open.Inc();
    public void SessionEnded() => _open.Dec();

    public void Received(int bytes) => _bytes.Inc(bytes);

    /// <summary>The first byte of the reply to a message's final dot: '2', '4' or '5'.</summary>
    public void MessageEnded(byte replyClass)
    {
        var c = replyClass - '0';
        if (c is >= 2 and <= 5) _messages[c].Inc();
    }

    public void TlsStarted(SslProtocols protocol) => _tls.WithLabels(protocol switch
    {
        SslProtocols.Tls12 => "TLSv1.2",
        SslProtocols.Tls13 => "TLSv1.3",
        _ => protocol.ToString(),
    }).Inc();
}
