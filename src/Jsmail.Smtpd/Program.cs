using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp;

namespace Jsmail.Smtpd;

/// <summary>
/// jsmail-smtpd, a drop-in qmail-smtpd run by tcpserver: the client on fds 0
/// and 1, tcpserver's variables in the environment (interfaces §8), and the
/// standards qmail leaves out switched on unless JSMAIL_COMPAT=qmail. See
/// docs/jsmail-smtpd.md.
/// </summary>
public static class Program
{
    /// <param name="args">none, as qmail-smtpd; or, as with the qmail AUTH patches,
    /// <c>hostname checkpassword subprogram [args...]</c> to offer AUTH</param>
    public static int Main(string[] args)
    {
        string home;
        try { home = QmailHome.Current; }
        catch (Exception) { return Die(SmtpReplyId.ControlsUnreadable); }
        if (Libc.Chdir(home) != 0) return Die(SmtpReplyId.ControlsUnreadable);

        var compat = Compat.IsQmail;
        SmtpdSettings settings;
        try { settings = SmtpdSettings.Read(new ControlReader(home), home, compat, DataBytesFromEnvironment()); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException or IOException)
        {
            return Die(SmtpReplyId.ControlsUnreadable);
        }
        var client = SmtpClientInfo.FromEnvironment();
        if (settings.RcptHosts == null && client.RelayClient == null)
            Log("control/rcpthosts is missing: relaying for nobody (BCP 30), only local addresses without a domain are accepted; " +
                "qmail-smtpd would have accepted every domain", client);

        Checkpassword? auth = null;
        if (args.Length >= 3) auth = new Checkpassword(args[0], args[1..]);
        else if (args.Length > 0 && !compat)
            Log("usage: jsmail-smtpd [hostname checkpassword subprogram...]: AUTH is not offered", client);

        var tls = settings.TlsCertificate is { } pem ? new ServerTls(pem) : null;
        void SessionLog(string text) => Log(text, client);
        var session = new SmtpSession(settings, client, () => OpenQueue(home),
            () => DateTimeOffset.UtcNow.ToUnixTimeSeconds(), tls, auth, SessionLog);
        return new SmtpConnection(session, new FdTransport(0, 1, settings.TimeoutSeconds), SessionLog).Run();
    }

    private static IMessageQueue? OpenQueue(string home)
    {
        try { return new QmailQueue(QueueClient.Open(home)); }
        catch (OutOfMemoryException) { return null; }
    }

    /// <summary>DATABYTES from tcprules, read as qmail's scan_ulong reads it: leading digits.</summary>
    private static ulong? DataBytesFromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("DATABYTES") is not { } v) return null;
        ulong n = 0;
        foreach (var c in v)
        {
            if (c is < '0' or > '9') break;
            n = n > (ulong.MaxValue - 9) / 10 ? ulong.MaxValue : n * 10 + (ulong)(c - '0');
        }
        return n;
    }

    private static int Die(SmtpReplyId id)
    {
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
