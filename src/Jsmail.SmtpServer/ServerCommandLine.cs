using System.CommandLine;

namespace Jsmail.SmtpServer;

/// <summary>The long options of server mode, parsed with System.CommandLine.</summary>
public static class ServerCommandLine
{
    /// <summary>
    /// The options; or null after the help (exit code 0) or the errors (exit
    /// code 100, qmail's "permanent: bad usage") have been written.
    /// </summary>
    public static ServerOptions? Parse(string[] args, out int exitCode)
    {
        exitCode = 100;
        var listen = new Option<string[]>("--listen")
        {
            Description = "IP:PORT or [IPv6]:PORT to listen on, with /smtp (default), /submission or /smtps; repeatable",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var rules = new Option<string?>("--rules") { Description = "the tcprules CDB deciding who may connect and with which variables (tcpserver -x)" };
        var localHost = new Option<string?>("--local-host") { Description = "TCPLOCALHOST for every connection (tcpserver -l)" };
        var remoteHost = new Option<bool>("--remote-host")
        {
            Description = "look up TCPREMOTEHOST in the DNS (tcpserver -h; default off, as tcpserver -H); resolvers from control/dnsresolvers",
        };
        var paranoid = new Option<bool>("--paranoid")
        {
            Description = "keep a looked-up name only when its addresses include the client's (tcpserver -p); implies --remote-host",
        };
        var max = new Option<int>("--max-connections") { Description = "sessions at once (tcpserver -c)", DefaultValueFactory = _ => 1000 };
        var perIp = new Option<int>("--max-per-ip") { Description = "sessions at once from one address; 0: no limit", DefaultValueFactory = _ => 50 };
        var rate = new Option<int>("--max-rate-per-ip") { Description = "new connections from one address per minute; 0: no limit" };
        var session = new Option<int>("--session-timeout") { Description = "seconds a whole session may last", DefaultValueFactory = _ => 3600 };
        var stop = new Option<int>("--stop-timeout") { Description = "seconds sessions may go on after SIGTERM", DefaultValueFactory = _ => 60 };
        var user = new Option<string?>("--user") { Description = "the account to serve as when started as root (default qmaild)" };
        var singleUser = new Option<bool>("--single-user") { Description = "serve as the user who started the server, even root (a single-user home)" };
        var group = new Option<string?>("--group") { Description = "the group to serve as (default the account's)" };
        var queue = new Option<string>("--queue")
        {
            Description = "service-or-program (default), service (jsmail-queued only: 451 while it is down) or program (bin/qmail-queue per message)",
            DefaultValueFactory = _ => "service-or-program",
        };
        queue.AcceptOnlyFromAmong("service-or-program", "service", "program");
        var metrics = new Option<string?>("--metrics")
        {
            Description = "IP:PORT, [IPv6]:PORT or PORT (on 127.0.0.1) to serve Prometheus metrics on at /metrics; off under JSMAIL_COMPAT=qmail",
        };
        var smtpdArgs = new Argument<string[]>("smtpd-args")
        {
            Description = "jsmail-smtpd's own arguments: hostname checkpassword subprogram... to offer AUTH",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var root = new RootCommand("jsmail-smtpd in server mode: one event-driven process serving every SMTP connection")
        {
            listen, rules, localHost, remoteHost, paranoid, max, perIp, rate, session, stop, singleUser, user, group, queue, metrics, smtpdArgs,
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 || parsed.Action != null)
        {
            // --help, --version, or the parse errors with the usage
            var code = parsed.Invoke();
            exitCode = parsed.Errors.Count == 0 ? code : 100;
            return null;
        }

        var addresses = new List<ListenAddress>();
        foreach (var text in parsed.GetValue(listen) ?? [])
        {
            if (!ListenAddress.TryParse(text, out var a, out var error)) return Fail("--listen: " + error);
            addresses.Add(a!);
        }
        System.Net.IPEndPoint? metricsAt = null;
        if (parsed.GetValue(metrics) is { } m && !Jsmail.Common.Metrics.MetricsAddress.TryParse(m, out metricsAt, out var metricsError))
            return Fail("--metrics: " + metricsError);
        var options = new ServerOptions
        {
            Metrics = metricsAt,
            Listen = addresses,
            RulesFile = parsed.GetValue(rules),
            LocalHost = parsed.GetValue(localHost),
            RemoteHost = parsed.GetValue(remoteHost) || parsed.GetValue(paranoid),
            Paranoid = parsed.GetValue(paranoid),
            MaxConnections = parsed.GetValue(max),
            MaxPerIp = parsed.GetValue(perIp),
            MaxRatePerIp = parsed.GetValue(rate),
            SessionSeconds = parsed.GetValue(session),
            StopSeconds = parsed.GetValue(stop),
            SingleUser = parsed.GetValue(singleUser),
            User = parsed.GetValue(user),
            Group = parsed.GetValue(group),
            SmtpdArgs = parsed.GetValue(smtpdArgs) ?? [],
            Queue = parsed.GetValue(queue) switch
            {
                "service" => Queueing.QueueMode.Service,
                "program" => Queueing.QueueMode.Program,
                _ => Queueing.QueueMode.ServiceOrProgram,
            },
        };
        if (options.MaxConnections < 1) return Fail("--max-connections must be at least 1");
        if (options.MaxPerIp < 0 || options.MaxRatePerIp < 0) return Fail("limits cannot be negative");
        if (options.SessionSeconds < 1 || options.StopSeconds < 0) return Fail("timeouts must be positive");
        if (options.SingleUser && (options.User != null || options.Group != null)) return Fail("--single-user serves as its own user: no --user or --group");
        if (options.SmtpdArgs.Count is 1 or 2) return Fail("AUTH needs: hostname checkpassword subprogram...");
        return options;
    }

    private static ServerOptions? Fail(string message)
    {
        Console.Error.WriteLine("jsmail-smtpd-server: " + message);
        return null;
    }
}
