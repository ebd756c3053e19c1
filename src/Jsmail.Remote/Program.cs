using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Remote;

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
        var reporting = TlsSessionLog.For(settings, home, host, hosts.Value.Route, Log);
        var sts = MtaSts.Apply(settings, home, host, hosts.Value.Route, hosts.Value.Hosts, report, Log, reporting);
        if (sts == null) return;
        if (!SendTimeProcessing.Apply(new ControlReader(home), settings.Compat, host, argv[1], argv[2..], report)) return;

        var recipients = argv[2..];
        var message = new MessageSource();
        var parameters = settings.Compat ? DeliveryParameters.Empty(recipients.Length) : DeliveryParameters.FromEnvironment(recipients.Length);
        var demand = MessageTlsDemand.Of(settings, parameters, argv[1], message);
        var dane = Dane.Apply(settings, host, hosts.Value.Port, sts.Value.Hosts, demand, report, Log, reporting);
        if (dane == null) return;
        var candidates = dane.Value.Hosts;
        while (true)
        {
            var (connection, ip) = Connector.Connect(candidates, hosts.Value.Port, settings,
                candidate => Connector.SecurityFor(settings, host, hosts.Value.Route, candidate, demand, sts.Value.Decision, dane.Value.Decision, reporting));
            if (connection == null)
            {
                report.Add('Z', "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
                return;
            }
            using (connection)
            {
                var dialogue = new Dialogue(connection, ip, report, settings.Features);
                dialogue.Run(settings.HeloHost, argv[1], recipients, message, parameters);
                // RFC 8689 §4.2.1: a host that cannot meet REQUIRETLS is passed over for the next; the last one's report stands.
                if (!dialogue.RequireTlsUnmet || Connector.After(candidates, ip) is not { Count: > 0 } rest) return;
                report.Clear();
                candidates = rest;
            }
        }
    }

    /// <summary>A line for the log: stderr, which qmail-rspawn and jsmail-rspawn pass on to jsmail-send's log.</summary>
    private static void Log(string line) => Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes("jsmail-remote: " + line + "\n"));
}
