namespace Jsmail.SmtpServer;

/// <summary>What the driver of one connection needs besides its session: the certificate, the timeout, the log, the metrics (null: off).</summary>
public sealed record SessionContext(ServerControls Tls, int TimeoutSeconds, IReadOnlyList<byte[]> Environment, Action<string> Log,
    ServerMetrics? Metrics = null);
