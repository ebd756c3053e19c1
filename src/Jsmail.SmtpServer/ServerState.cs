using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Session;
using Jsmail.Common.Queue;
using Jsmail.Common.Tcp;
using Jsmail.SmtpServer.Queueing;

namespace Jsmail.SmtpServer;

/// <summary>
/// What every connection shares and SIGHUP replaces: the controls snapshot.
/// Plus what stays from start to end: the home, the checkpassword program,
/// and the server's own environment (read once; never changed).
/// </summary>
public sealed class ServerState
{
    private readonly List<byte[]> _environment;
    private readonly List<byte[]> _submissionEnvironment;
    private readonly string? _rulesFile;
    private readonly ServerOptions _options;
    private volatile ServerControls _controls;

    public string Home { get; }
    public Checkpassword? Auth { get; }
    public QueueRoute Queue { get; }
    public ServerControls Controls => _controls;
    /// <summary>control/plugins, loaded once at start (a library is never reloaded); null when absent.</summary>
    public Jsmail.Common.Smtp.Plugins.Native.NativePlugins? Native { get; set; }
    /// <summary>--metrics's counters; null when the server serves none.</summary>
    public ServerMetrics? Metrics { get; set; }

    public ServerState(string home, ServerOptions options)
    {
        Home = home;
        _rulesFile = options.RulesFile;
        _options = options;
        _environment = Libc.EnvironmentEntries();
        // A submission port is SUBMISSION=1 as tcprules would set it; a rule may still say otherwise.
        var submission = new UcspiEnvironment(_environment);
        submission.Set("SUBMISSION", "1"u8);
        _submissionEnvironment = submission.Entries;
        if (options.SmtpdArgs.Count >= 3)
            Auth = new Checkpassword(options.SmtpdArgs[0], [.. options.SmtpdArgs.Skip(1)]);
        _controls = Read();
        Queue = new QueueRoute(home, options.Queue,
            options.Queue == QueueMode.Program ? null : new QueueServiceClient(QueueServiceClient.SocketPath(home)));
    }

    /// <summary>The environment a connection on a port of this role starts from, before tcpserver's variables.</summary>
    public IReadOnlyList<byte[]> Environment(ListenRole role) => role == ListenRole.Smtp ? _environment : _submissionEnvironment;

    /// <summary>
    /// SIGHUP: the files again, for new sessions. When some could be read
    /// before and cannot now, the old snapshot stays. Returns what could not
    /// be read, or null.
    /// </summary>
    public string? Reload()
    {
        var fresh = Read();
        if (fresh.Problem != null && _controls.Problem == null) return fresh.Problem;
        var old = _controls;
        _controls = fresh;
        // The old rules' file stays open until no connection can still be deciding with it.
        if (old.Rules is { } stale) _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ => stale.Dispose(), TaskScheduler.Default);
        return fresh.Problem;
    }

    private ServerControls Read()
    {
        var compat = SessionEnvironment.Get(_environment, "JSMAIL_COMPAT"u8) is { } c && c.AsSpan().SequenceEqual("qmail"u8);
        return new ServerControls(Home, _rulesFile, compat, SessionEnvironment.DataBytes(_environment))
        {
            HostLookup = _options.RemoteHost
                ? new RemoteHostLookup(RemoteHostLookup.Client(ServerControls.DnsServers(Home)), _options.Paranoid)
                : null,
        };
    }
}
