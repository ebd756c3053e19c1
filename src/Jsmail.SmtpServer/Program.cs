using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.SmtpServer;

/// <summary>
/// jsmail-smtpd-server: jsmail-smtpd's server mode (docs/jsmail-smtpd.md,
/// "Server mode"), one event-driven process serving every connection in
/// place of tcpserver. jsmail-smtpd execs it when its first argument is a
/// long option. Exit codes: 0 after SIGTERM, 100 for bad usage, 111 when it
/// cannot start (home, a port, the account).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var options = ServerCommandLine.Parse(args, out var usage);
        if (options == null) return usage;
        var log = new ServerLog();

        string home;
        try { home = QmailHome.Current; }
        catch (Exception e) when (e is IOException or InvalidOperationException) { return Fatal(log, "unable to find the qmail home: " + e.Message); }
        if (Libc.Chdir(home) != 0) return Fatal(log, $"unable to chdir to {home}: {ErrorText.Describe(Libc.Errno)}");

        // A descriptor per client: every one the hard limit allows.
        var files = Libc.RaiseSoftLimitToHard(Libc.RLIMIT_NOFILE);
        List<(System.Net.Sockets.Socket, ListenAddress)> listeners;
        try { listeners = SmtpServer.Bind(options.Listen); }
        catch (System.Net.Sockets.SocketException e) { return Fatal(log, "unable to listen: " + e.Message); }
        // bound before the privileges go, as the SMTP ports are: an address below 1024 works too
        Jsmail.Common.Metrics.MetricsResponder? metricsResponder = null;
        ServerMetrics? metrics = null;
        if (options.Metrics is { } metricsAt && !Compat.IsQmail)
        {
            metrics = new ServerMetrics();
            try { metricsResponder = Jsmail.Common.Metrics.MetricsResponder.Start(metricsAt, metrics.Registry); }
            catch (System.Net.Sockets.SocketException e) { return Fatal(log, $"unable to serve metrics on {metricsAt}: {e.Message}"); }
        }
        using var serving = metricsResponder;
        if (Privileges.Drop(options.User, options.Group, options.SingleUser) is { } problem) return Fatal(log, problem);

        var state = new ServerState(home, options) { Metrics = metrics };
        try { state.Native = Jsmail.Common.Smtp.Plugins.Native.NativePluginLoader.Load(home, Compat.IsQmail); }
        catch (Exception e) when (e is Jsmail.Common.Smtp.Plugins.Native.NativePluginException or ControlReadException or IOException)
        {
            return Fatal(log, e.Message);
        }
        if (state.Controls.Problem is { } unreadable) log.Server($"warning: {unreadable}: connections get 421 or are dropped until SIGHUP reads it");
        if (metricsResponder != null) log.Server($"metrics on http://{metricsResponder.Endpoint}/metrics");
        log.Server($"started as uid {Libc.Getuid()}, up to {options.MaxConnections} sessions, {files} descriptors");
        return new SmtpServer(options, state, listeners, log).RunAsync().GetAwaiter().GetResult();
    }

    private static int Fatal(ServerLog log, string text)
    {
        log.Server("fatal: " + text);
        return 111;
    }
}
