using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Smtp.Plugins.Native;
using Jsmail.Common.Tcp;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// What jsmail-smtpd and jsmail-smtpd-tls both do with a connection: the
/// client on fds 0 and 1, tcpserver's variables in the environment
/// (interfaces §8), the standards qmail leaves out switched on unless
/// JSMAIL_COMPAT=qmail. They differ only in how STARTTLS is done.
/// </summary>
public static class SmtpdMain
{
    /// <param name="args">none, as qmail-smtpd; or, as with the qmail AUTH patches,
    /// <c>hostname checkpassword subprogram [args...]</c> to offer AUTH</param>
    /// <param name="tls">STARTTLS for a home and its certificate file</param>
    /// <param name="handedOver">failed AUTH attempts, when jsmail-smtpd handed over a STARTTLS it answered; else null</param>
    public static int Run(string[] args, Func<string, string, ITlsUpgrade> tls, int? handedOver)
    {
        string home;
        try { home = QmailHome.Current; }
        catch (Exception) { return Die(SmtpReplyId.ControlsUnreadable, handedOver != null); }
        if (Libc.Chdir(home) != 0) return Die(SmtpReplyId.ControlsUnreadable, handedOver != null);

        var compat = Compat.IsQmail;
        SmtpdSettings settings;
        SppConfig? plugins;
        try
        {
            var controls = new ControlReader(home);
            settings = SmtpdSettings.Read(controls, home, compat, DataBytesFromEnvironment());
            plugins = SppConfig.Load(controls, Libc.Getenv("NOSPP"), Libc.Getenv("SPPCONFFILE"));
        }
        catch (Exception e) when (e is ControlReadException or ControlMissingException or IOException)
        {
            return Die(SmtpReplyId.ControlsUnreadable, handedOver != null);
        }
        var client = SmtpClientInfo.FromEnvironment();
        NativePlugins? native;
        try { native = NativePluginLoader.Load(home, compat); }
        catch (Exception e) when (e is NativePluginException or ControlReadException or IOException)
        {
            Log(e.Message + ": refusing to start", client);
            return Die(SmtpReplyId.ControlsUnreadable, handedOver != null);
        }
        if (settings.RcptHosts == null && client.RelayClient == null && handedOver == null)
            Log("control/rcpthosts is missing: relaying for nobody (BCP 30), only local addresses without a domain are accepted; " +
                "qmail-smtpd would have accepted every domain", client);

        Checkpassword? auth = null;
        if (args.Length >= 3) auth = new Checkpassword(args[0], args[1..]);
        else if (args.Length > 0 && !compat)
            Log("usage: jsmail-smtpd [hostname checkpassword subprogram...]: AUTH is not offered", client);

        // With no certificate a handed-over session has nothing to shake hands with: it fails like a bad handshake.
        var upgrade = settings.TlsCertificate is { } pem ? tls(home, pem) : null;
        SmtpSession? session = null;
        void SessionLog(string text) => Log(text, session?.Client ?? client); // the client a plugin's verb (XCLIENT) set, once set
        session = new SmtpSession(settings, client, () => QueueSink.Open(home),
            () => DateTimeOffset.UtcNow.ToUnixTimeSeconds(), upgrade, auth, SessionLog)
        {
            Native = native,
            Rules = compat ? null : RulesNamedByEnvironment(),
            Spp = plugins == null ? null : new SppSession(plugins, new SppEnvironment(null), settings.Has(Standards.EnhancedStatusCodes), compat),
        };
        var connection = new SmtpConnection(session, new FdTransport(0, 1, settings.TimeoutSeconds), upgrade, SessionLog);
        return handedOver is { } failures ? connection.RunAfterStartTls(failures) : connection.Run();
    }

    /// <summary>
    /// Under tcpserver this program cannot know tcpserver's rules file: the
    /// operator names it in JSMAIL_RULES for a client a plugin (XCLIENT) sets
    /// to be looked up in it again. Opened at the first such lookup.
    /// </summary>
    private static Func<TcpRules?>? RulesNamedByEnvironment()
    {
        if (Libc.Getenv(RulesVariable) is not { Length: > 0 } path) return null;
        TcpRules? rules = null;
        return () => rules ??= TcpRules.Open(Encoding.UTF8.GetString(path), allowMissing: false);
    }

    public const string RulesVariable = "JSMAIL_RULES";

    /// <summary>DATABYTES from tcprules, as qmail's scan_ulong reads it.</summary>
    private static ulong? DataBytesFromEnvironment() =>
        Libc.Getenv("DATABYTES") is { } v ? SmtpdSettings.ScanDataBytes(v) : null;

    /// <param name="underTls">the client is about to start TLS: a reply in the clear would only confuse it</param>
    private static int Die(SmtpReplyId id, bool underTls)
    {
        if (underTls) return 1;
        var o = new List<byte>();
        SmtpReplies.Append(o, id, useEnhanced: false);
        Libc.WriteAll(1, o.ToArray());
        return 1;
    }

    /// <summary>One line on stderr; bytes that could forge a line or a terminal escape become '?'.</summary>
    private static void Log(string text, SmtpClientInfo client)
    {
        var line = new List<byte>();
        line.AddRange("jsmail-smtpd: "u8);
        foreach (var b in client.RemoteIp) line.Add(SmtpReceived.IsSafe(b) ? b : (byte)'?');
        line.AddRange(": "u8);
        line.AddRange(Encoding.ASCII.GetBytes(text));
        line.Add((byte)'\n');
        Libc.WriteAll(2, line.ToArray());
    }
}
