using System.Net;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Remote;

/// <summary>
/// jsmail-remote, a drop-in qmail-remote: <c>host sender recip...</c>, the
/// message on fd 0, the reports on fd 1 (§6.7), always exit 0.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var report = new Report();
        Libc.Signal(Libc.SIGPIPE, Libc.SIG_IGN); // a peer that went away is a write error, not our death (as qmail-remote)
        try { Deliver(RawArgs.Read().Skip(1).ToArray(), report); }
        catch (OutOfMemoryException) { report.Add('Z', "Out of memory. (#4.3.0)\n"); }
        Libc.WriteAll(1, report.Bytes);
        return 0;
    }

    private static void Deliver(byte[][] argv, Report report)
    {
        if (argv.Length < 3) { report.Add('D', "I (qmail-remote) was invoked improperly. (#5.3.5)\n"); return; }
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { report.Add('Z', "Unable to switch to home directory. (#4.3.0)\n"); return; }
        if (Libc.Chdir(home) != 0) { report.Add('Z', "Unable to switch to home directory. (#4.3.0)\n"); return; }

        RemoteSettings settings;
        try { settings = RemoteSettings.Read(new ControlReader(home)); }
        catch (Exception e) when (e is IOException or ControlMissingException)
        {
            report.Add('Z', "Unable to read control files. (#4.3.0)\n");
            return;
        }

        var host = argv[0];
        var hosts = new Destination(settings).Resolve(host, report);
        if (hosts == null) return;
        if (!SendTimeProcessing.Apply(new ControlReader(home), settings.Compat, host, argv[1], argv[2..], report)) return;

        var (connection, ip) = Connect(hosts.Value.Hosts, hosts.Value.Port, settings,
            candidate => SecurityFor(settings, host, hosts.Value.Route, candidate));
        if (connection == null)
        {
            report.Add('Z', "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
            return;
        }
        using (connection)
        {
            new Dialogue(connection, ip, report, settings.Compat)
                .Run(settings.HeloHost, argv[1], argv[2..], new MessageSource());
        }
    }

    /// <summary>Tries each candidate in order, skipping those tcpto marks down; the first connect wins.</summary>
    private static (SmtpConnection?, string) Connect(List<MailHost> candidates, int port, RemoteSettings settings,
        Func<MailHost, PeerSecurity> security)
    {
        const string tcpto = "queue/lock/tcpto";
        var table = Tcpto.Load(tcpto);
        var pid = Libc.Getpid();
        foreach (var candidate in candidates)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (Tcpto.IsDown(table, candidate.Address, now, pid)) continue;
            var fd = SmtpConnection.Connect(candidate.Address, port, settings.OutgoingIpFor(candidate.Address), settings.TimeoutConnect, out var timedOut);
            Tcpto.Update(tcpto, candidate.Address, timedOut && fd < 0, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            if (fd >= 0)
                return (new SmtpConnection(fd, settings.TimeoutRemote) { Security = security(candidate) }, Format(candidate.Address));
        }
        return (null, "");
    }

    private static string Format(IPAddress ip) => ip.ToString();

    /// <summary>TLS by the destination domain (tlsdestinations), AUTH by the smtproutes relay (remoteauth).</summary>
    private static PeerSecurity SecurityFor(RemoteSettings settings, byte[] host, Route? route, MailHost candidate)
    {
        if (settings.Compat) return PeerSecurity.None;
        var auth = route == null ? null : Credentials.For(settings.RemoteAuth, Encoding.Latin1.GetBytes(route.Relay));
        return new PeerSecurity(TlsPolicy.For(settings.TlsDestinations, host), candidate.Name,
            Encoding.Latin1.GetString(host), auth);
    }
}
