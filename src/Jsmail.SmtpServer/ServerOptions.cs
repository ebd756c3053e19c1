namespace Jsmail.SmtpServer;

/// <summary>What the command line asks of the server (docs/jsmail-smtpd.md, "Server mode").</summary>
public sealed record ServerOptions
{
    public required IReadOnlyList<ListenAddress> Listen { get; init; }
    /// <summary>tcpserver -x: the rules CDB made by tcprules; null: every client is allowed, with no assignments.</summary>
    public string? RulesFile { get; init; }
    /// <summary>tcpserver -l: TCPLOCALHOST for every connection; null: not set (TCPLOCALIP stands in).</summary>
    public string? LocalHost { get; init; }
    /// <summary>tcpserver -h: TCPREMOTEHOST from the client's PTR record (default off, as tcpserver -H).</summary>
    public bool RemoteHost { get; init; }
    /// <summary>tcpserver -p: a PTR name is kept only when it resolves back to the client (implies <see cref="RemoteHost"/>).</summary>
    public bool Paranoid { get; init; }
    public int MaxConnections { get; init; } = 1000;
    public int MaxPerIp { get; init; } = 50;
    public int MaxRatePerIp { get; init; }
    public int SessionSeconds { get; init; } = 3600;
    public int StopSeconds { get; init; } = 60;
    /// <summary>Serve as whoever started the server, root included: for a single-user home (install.sh --single-user).</summary>
    public bool SingleUser { get; init; }
    public string? User { get; init; }
    public string? Group { get; init; }
    public Queueing.QueueMode Queue { get; init; } = Queueing.QueueMode.ServiceOrProgram;
    /// <summary>jsmail-smtpd's own argv: none, or <c>hostname checkpassword subprogram...</c> to offer AUTH.</summary>
    public IReadOnlyList<string> SmtpdArgs { get; init; } = [];
    /// <summary>--metrics: where to serve Prometheus metrics (docs/metrics.md); null: nowhere.</summary>
    public System.Net.IPEndPoint? Metrics { get; init; }
}
