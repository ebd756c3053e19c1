using System.Text;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Smtp.Plugins.Native;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Client facts a plugin's verb sets for the rest of the session (ABI version
/// 2's set_fact and restart: XCLIENT's way, docs/plugins.md). The session then
/// is what it would have been had the client connected with them: the client
/// info every later step reads (Received line, milters, policy services,
/// plugins, log lines) and the environment check programs and qmail-spp
/// plugins start with.
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>EHLO lines HELO hooks offered to this client at its latest EHLO (ehlo_offer).</summary>
    private readonly List<string> _ehloOffered = new();
    /// <summary>A HELO set by a plugin: it counts instead of the argument of the HELO or EHLO that follows.</summary>
    private byte[]? _heloKept;
    /// <summary>"SMTP" or "ESMTP" set by a plugin, for the Received line; null: as the client's HELO or EHLO says.</summary>
    private string? _protocol;

    /// <summary>The client as the session now sees it; the driver names it in its log lines.</summary>
    public SmtpClientInfo Client => client;

    /// <summary>
    /// The session's environment, the one children start with: this process's
    /// per connection, the session's entries in server mode.
    /// </summary>
    private SppEnvironment Variables => new(client.ChildEnvironment as List<byte[]>);

    private string BaseProtocol => _ehlo || _inTls || _authUser != null ? "ESMTP" : "SMTP";

    /// <returns>null to go on; otherwise the end of the session (the rules deny the new client, or cannot be read)</returns>
    private SessionStep? SetClientFacts(IReadOnlyDictionary<NativeAbi.Fact, byte[]?> facts)
    {
        if (facts.Count == 0) return null;
        var was = client;
        var env = Variables;
        var wasHost = env.Get("TCPREMOTEHOST");
        var c = client;
        if (facts.TryGetValue(NativeAbi.Fact.RemoteIp, out var ip))
        {
            // tcprules gave RELAYCLIENT to the address that connected, and identd's answer was about it too: neither is the new client's
            // An unknown address is what jsmail-smtpd, like qmail-smtpd, makes of a missing TCPREMOTEIP: "unknown".
            c = c with { RemoteIp = ip ?? "unknown"u8.ToArray(), RelayClient = null, RemoteInfo = null };
            if (ip == null) env.Unset("TCPREMOTEIP"u8);
            else env.Set("TCPREMOTEIP", ip);
            env.Unset("RELAYCLIENT"u8);
            env.Unset("TCPREMOTEINFO"u8);
        }
        if (facts.TryGetValue(NativeAbi.Fact.RemoteHost, out var host))
        {
            c = c with { RemoteHost = host ?? "unknown"u8.ToArray() };
            if (host == null) env.Unset("TCPREMOTEHOST"u8);
            else env.Set("TCPREMOTEHOST", host);
        }
        if (facts.TryGetValue(NativeAbi.Fact.RemotePort, out var port))
        {
            if (port == null) env.Unset("TCPREMOTEPORT"u8);
            else env.Set("TCPREMOTEPORT", port);
        }
        if (facts.TryGetValue(NativeAbi.Fact.Helo, out var helo)) _heloKept = helo;
        if (facts.TryGetValue(NativeAbi.Fact.Protocol, out var protocol)) _protocol = Encoding.ASCII.GetString(protocol!);
        if (facts.TryGetValue(NativeAbi.Fact.AuthUser, out var user)) SetAuthUser(user);
        client = c; // the log line names the new client
        var said = facts.Select(f => $"{Name(f.Key)}={(f.Value == null ? "(none)" : Printable(f.Value))}");
        _log($"client facts set by a plugin's verb from {Printable(was.RemoteIp)}: {string.Join(' ', said)}");
        if (facts.ContainsKey(NativeAbi.Fact.RemoteIp))
        {
            try
            {
                if (RulesAgain(was, wasHost, c, env) is not { } ruled) return DeniedByRules();
                c = ruled;
            }
            catch (Jsmail.Common.Tcp.TcpRulesException e)
            {
                _log($"unable to read the rules {e.Path}: {e.Message}");
                Reply(SmtpReplyId.ControlsUnreadable);
                return CloseWith(1);
            }
        }
        client = c;
        return null;
    }

    /// <summary>As after AUTH: the user, and SMTPAUTHUSER for qmail-spp plugins and check programs.</summary>
    private void SetAuthUser(byte[]? user)
    {
        _authUser = user;
        var env = Variables;
        if (user == null) env.Unset("SMTPAUTHUSER"u8);
        else env.Set("SMTPAUTHUSER", user);
        env.Unset("SMTPAUTHMETHOD"u8);
    }

    /// <summary>
    /// As if the client had just connected (with the facts set): no transaction,
    /// no HELO, no AUTH unless a plugin set one; the connection stages again
    /// (qmail-spp [connection] plugins, policy CONNECT, native connect hooks,
    /// milters' connect), then the greeting or their refusal in its place,
    /// after which the client says HELO or EHLO. TLS stays: the connection is the same.
    /// </summary>
    /// <param name="keepAuth">the plugin set the authenticated user (or its absence) itself</param>
    private SessionStep Restart(bool keepAuth)
    {
        Spp?.Rset();
        AbortTransaction();
        _helo = null;
        _ehlo = false;
        _heloRefused = false;
        _authStep = null;
        if (!keepAuth) SetAuthUser(null);
        // What the connection stages decided was about the proxy. Postfix, too, ends its milters' session with the
        // proxy and starts a new one for the client: here on new milter connections (QUIT, then connect again).
        _clientRefusal = null;
        CloseMilters();
        _milterConnected = false;
        _milterRefusal = null;
        return ConnectionStages();
    }

    private static string Name(NativeAbi.Fact f) => f switch
    {
        NativeAbi.Fact.RemoteIp => "addr",
        NativeAbi.Fact.RemoteHost => "name",
        NativeAbi.Fact.RemotePort => "port",
        NativeAbi.Fact.Helo => "helo",
        NativeAbi.Fact.AuthUser => "login",
        NativeAbi.Fact.Protocol => "proto",
        _ => f.ToString(),
    };
}
