using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Smtp;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Smtp.Session;
using Jsmail.Common.Tcp;
using Jsmail.SmtpServer.Queueing;

namespace Jsmail.SmtpServer;

/// <summary>
/// What tcpserver does for each connection, in-process: the limits, the
/// rules, the environment (tcpserver's variables and the rule's assignments),
/// the log lines; then one session driven to its end.
/// </summary>
public sealed class ConnectionHandler(ServerOptions options, ServerState state, ConnectionLimits limits,
    DeadlineSweeper sweeper, ServerLog log)
{
    private long _lastId;

    public async Task ServeAsync(Socket socket, ListenAddress listen)
    {
        var id = Interlocked.Increment(ref _lastId);
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var remoteIp = TcpAddressText.Unmapped(remote.Address);
        var remoteText = Encoding.ASCII.GetString(TcpAddressText.Format(remoteIp));

        var metrics = state.Metrics;
        metrics?.Accepted();
        var admission = limits.TryAdmit(remoteIp, TimeSpan.FromMilliseconds(DeadlineSweeper.Now));
        if (admission != ConnectionLimit.None)
        {
            metrics?.Refused(admission);
            log.Server($"refused {remoteText}: {admission}");
            await SendAsync(socket, LimitReplies.For(admission), listen.Role);
            socket.Dispose();
            return;
        }
        var status = 1;
        metrics?.SessionStarted();
        try
        {
            log.Status(limits.Open, options.MaxConnections);
            log.Connected(id, remoteText);
            status = await SessionAsync(socket, listen, id, local, remote, remoteText);
        }
        finally
        {
            metrics?.SessionEnded();
            socket.Dispose();
            limits.Release(remoteIp);
            log.Ended(id, status);
            log.Status(limits.Open, options.MaxConnections);
        }
    }

    private async Task<int> SessionAsync(Socket socket, ListenAddress listen, long id, IPEndPoint local, IPEndPoint remote, string remoteText)
    {
        var controls = state.Controls;
        var localHost = options.LocalHost is { } name ? Encoding.UTF8.GetBytes(name) : null;
        var remoteHost = controls.HostLookup is { } lookup ? await lookup.NameOfAsync(TcpAddressText.Unmapped(remote.Address)) : null;
        var info = new TcpConnectionInfo(local.Address, local.Port, localHost, remote.Address, remote.Port, remoteHost, null)
        {
            LocalInterface = InterfaceName(local.Address),
        };
        TcpRuleDecision decision;
        try
        {
            if (controls.RulesUnreadable) throw new TcpRulesException(options.RulesFile!, Jsmail.Common.Os.Errno.EIO);
            decision = controls.Rules?.Decide(remote.Address, remoteHost, null) ?? TcpRuleDecision.NoRule;
        }
        catch (TcpRulesException e)
        {
            log.Server($"unable to read {e.Path}: dropped {remoteText}"); // tcpserver drops such a connection too
            state.Metrics?.RefusedByRules();
            return 1;
        }
        var localText = Encoding.ASCII.GetString(TcpAddressText.Format(local.Address));
        log.Decided(decision.Allowed, id, options.LocalHost ?? "", localText, local.Port,
            remoteHost == null ? "" : Encoding.ASCII.GetString(remoteHost), remoteText, remote.Port);
        if (!decision.Allowed)
        {
            state.Metrics?.RefusedByRules();
            return 1;
        }

        var env = TcpserverEnvironment.Build(state.Environment(listen.Role), info, decision);
        var compat = SessionEnvironment.Get(env, "JSMAIL_COMPAT"u8) is { } c && c.AsSpan().SequenceEqual("qmail"u8);
        if (controls.For(compat, SessionEnvironment.DataBytes(env)) is not { } settings
            || !controls.TryPlugins(SessionEnvironment.Get(env, "NOSPP"u8), SessionEnvironment.Get(env, "SPPCONFFILE"u8), out var plugins))
        {
            // what jsmail-smtpd (and qmail-smtpd) say when they cannot read their controls
            state.Metrics?.RefusedForControls();
            await SendAsync(socket, ControlsUnreadable, listen.Role);
            return 1;
        }
        var unknown = "unknown"u8.ToArray();
        var client = new SmtpClientInfo(
            SessionEnvironment.Get(env, "TCPREMOTEIP"u8) ?? unknown,
            SessionEnvironment.Get(env, "TCPREMOTEHOST"u8) ?? unknown,
            SessionEnvironment.Get(env, "TCPREMOTEINFO"u8),
            SessionEnvironment.Get(env, "TCPLOCALHOST"u8) ?? SessionEnvironment.Get(env, "TCPLOCALIP"u8) ?? unknown,
            SessionEnvironment.Get(env, "RELAYCLIENT"u8),
            SessionEnvironment.Get(env, "SUBMISSION"u8) is { } s && !s.AsSpan().SequenceEqual("0"u8))
        { ChildEnvironment = env };
        SmtpSession? session = null;
        // the client a plugin's verb (XCLIENT) set, once set
        void SessionLog(string text) => log.Session(session == null ? remoteText : Encoding.ASCII.GetString(session.Client.RemoteIp), text);
        if (settings.RcptHosts == null && client.RelayClient == null)
            SessionLog("control/rcpthosts is missing: relaying for nobody (BCP 30), only local addresses without a domain are accepted; " +
                "qmail-smtpd would have accepted every domain");

        // QMAILQUEUE as the session's environment has it when the message starts: a plugin's S may have set it.
        session = new SmtpSession(settings, client,
            () => new MemfdMessageSink(state.Queue, SessionEnvironment.GetText(env, "QMAILQUEUE"u8), compat, env),
            () => DateTimeOffset.UtcNow.ToUnixTimeSeconds(), settings.TlsCertificate != null ? controls : null, state.Auth, SessionLog)
        {
            Native = compat ? null : state.Native,
            // looked up again for a client a plugin (XCLIENT) sets: the rules in force then, SIGHUP's rereading included
            Rules = compat ? null : () => state.Controls.Rules,
            Spp = plugins == null ? null : new SppSession(plugins, new SppEnvironment(env), settings.Has(Standards.EnhancedStatusCodes), compat,
                captureStderr: true),
        };
        using var timer = new ConnectionTimer(DeadlineSweeper.Now, options.SessionSeconds);
        sweeper.Add(timer);
        try
        {
            var context = new SessionContext(controls, settings.TimeoutSeconds, env, SessionLog, state.Metrics);
            var connection = new AsyncSmtpConnection(session, new NetworkStream(socket, ownsSocket: false), timer, context);
            return await connection.RunAsync(implicitTls: listen.Role == ListenRole.Smtps);
        }
        finally { sweeper.Remove(timer); }
    }

    /// <summary>
    /// ucspi-tcp-ipv6's TCP6INTERFACE: the interface of a scoped (link-local)
    /// local address, by name; null for any other connection.
    /// </summary>
    private static byte[]? InterfaceName(IPAddress local) =>
        local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !local.IsIPv4MappedToIPv6 && local.ScopeId != 0
            ? Jsmail.Common.Os.Libc.InterfaceName((uint)local.ScopeId)
            : null;

    private static readonly byte[] ControlsUnreadable = Reply(SmtpReplyId.ControlsUnreadable);

    private static byte[] Reply(SmtpReplyId id)
    {
        var o = new List<byte>();
        SmtpReplies.Append(o, id, useEnhanced: false);
        return [.. o];
    }

    /// <summary>
    /// A reply before the close, with no more than a few seconds spent on a
    /// client that does not read. On the implicit-TLS port nothing is said: a
    /// reply in the clear would read as a broken handshake.
    /// </summary>
    private static async Task SendAsync(Socket socket, byte[] reply, ListenRole role)
    {
        if (role == ListenRole.Smtps) return;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await socket.SendAsync(reply, SocketFlags.None, cancel.Token); }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }
}
