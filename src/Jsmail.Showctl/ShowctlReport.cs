using System.Globalization;
using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Showctl;

/// <summary>
/// The control-file part of qmail-showctl's report, byte for byte: each file
/// qmail knows, in qmail's order, with its meaning and its value (or
/// "(Default.)" and the default), then "I have no idea what this file does."
/// for every other file in control/. Outside JSMAIL_COMPAT=qmail it also tells
/// the truth where jsmail differs (a missing rcpthosts relays for nobody) and
/// describes jsmail's own control files instead of calling them unknown.
/// </summary>
public sealed class ShowctlReport(IControlFiles files, bool compat)
{
    private readonly MemoryStream _out = new();
    private byte[]? _me;

    /// <summary>Names qmail-showctl describes; every other entry is "no idea".</summary>
    public static readonly string[] QmailFiles =
    [
        "badmailfrom", "bouncefrom", "bouncehost", "concurrencylocal", "concurrencyremote", "databytes",
        "defaultdomain", "defaulthost", "doublebouncehost", "doublebounceto", "envnoathost", "helohost", "idhost",
        "localiphost", "locals", "me", "morercpthosts", "morercpthosts.cdb", "percenthack", "plusdomain",
        "qmqpservers", "queuelifetime", "rcpthosts", "smtpgreeting", "smtproutes", "timeoutconnect",
        "timeoutremote", "timeoutsmtpd", "virtualdomains",
    ];

    /// <summary>jsmail's own control files (docs/differences.md), described outside compat mode.</summary>
    public static readonly string[] JsmailFiles =
    [
        "badhelo.cdb", "badmailfrom.cdb", "bounceformat", "bouncemaxbytes", "delaywarningtime", "dkimkeys", "dnsresolvers", "localinprocess", "localsharedsync", "maxmail",
        "maxrcpt", "metrics", "milters", "outgoingip", "plugins", "plugintimeout", "policy", "quarantine", "queuedcommitwait", "queuescanners",
        "remoteauth", "remotedisable", "remoteidle", "remotemessagespersession", "remotepool", "remoteprocessors", "remoterecipients",
        "remotesessions", "smtpauthtls", "smtpcheck", "smtpdisable", "smtpplugins", "timeoutlocal", "timeoutqueuescan",
        "timeoutremoteprocessor", "timeoutsmtpplugin", "tlsdestinations", "tlsrptcontact", "tlsrptorganization", "validrcptto.cdb",
    ];

    /// <summary>
    /// The report, or null with <paramref name="oops"/> set when control/me
    /// cannot be read (qmail prints that text without a newline and exits 111).
    /// </summary>
    public byte[]? Build(out string? oops)
    {
        oops = null;
        var me = files.Read("me");
        if (me.State == ControlState.Unreadable)
        {
            oops = "Oops! Trouble reading control/me.";
            return null;
        }
        _me = me.State == ControlState.Present ? ControlParse.Line(me.Bytes) : null;

        List("badmailfrom", "Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM.");
        Str("bouncefrom", false, "MAILER-DAEMON", "Bounce user name is ");
        Str("bouncehost", true, "bouncehost", "Bounce host name is ");
        Int("concurrencylocal", "10", "Local concurrency is ", "");
        Int("concurrencyremote", "20", "Remote concurrency is ", "");
        Int("databytes", "0", "SMTP DATA limit is ", " bytes");
        Str("defaultdomain", true, "defaultdomain", "Default domain name is ");
        Str("defaulthost", true, "defaulthost", "Default host name is ");
        Str("doublebouncehost", true, "doublebouncehost", "2B recipient host: ");
        Str("doublebounceto", false, "postmaster", "2B recipient user: ");
        Str("envnoathost", true, "envnoathost", "Presumed domain name is ");
        Str("helohost", true, "helohost", "SMTP client HELO host name is ");
        Str("idhost", true, "idhost", "Message-ID host name is ");
        Str("localiphost", true, "localiphost", "Local IP address becomes ");
        List("locals", "Messages for me are delivered locally.", "Messages for ", " are delivered locally.");
        Str("me", false, "undefined! Uh-oh", "My name is ");
        List("percenthack", "The percent hack is not allowed.", "The percent hack is allowed for user%host@", ".");
        Str("plusdomain", true, "plusdomain", "Plus domain name is ");
        List("qmqpservers", "No QMQP servers.", "QMQP server: ", ".");
        Int("queuelifetime", "604800", "Message lifetime in the queue is ", " seconds");

        var noRcpthosts = compat
            ? "SMTP clients may send messages to any recipient."
            : "SMTP clients may send messages only to recipients without a domain: without rcpthosts jsmail-smtpd relays for nobody (BCP 30).";
        if (List("rcpthosts", noRcpthosts, "SMTP clients may send messages to recipients at ", ".") != 0)
            List("morercpthosts", "No effect.", "SMTP clients may send messages to recipients at ", ".");
        else
            List("morercpthosts", "No rcpthosts; morercpthosts is irrelevant.", "No rcpthosts; doesn't matter that morercpthosts has ", ".");
        Put("\nmorercpthosts.cdb: ");
        Put(MoreRcptHostsCdb(files.Mtime("morercpthosts"), files.Mtime("morercpthosts.cdb")));

        Str("smtpgreeting", true, "smtpgreeting", "SMTP greeting: 220 ");
        List("smtproutes", "No artificial SMTP routes.", "SMTP route: ", "");
        Int("timeoutconnect", "60", "SMTP client connection timeout is ", " seconds");
        Int("timeoutremote", "1200", "SMTP client data timeout is ", " seconds");
        Int("timeoutsmtpd", "1200", "SMTP server data timeout is ", " seconds");
        List("virtualdomains", "No virtual domains.", "Virtual domain: ", "");

        if (!compat) JsmailSection();

        foreach (var name in files.Names)
        {
            if (QmailFiles.Contains(name) || (!compat && JsmailFiles.Contains(name))) continue;
            Put($"\n{name}: I have no idea what this file does.\n");
        }
        return _out.ToArray();
    }

    private void JsmailSection()
    {
        Cdb("badhelo.cdb", "No HELO name is refused.", "HELO names listed in this cdb are refused (jsmail-smtpd).");
        Cdb("badmailfrom.cdb", "No envelope sender is refused at MAIL.", "Envelope senders listed in this cdb are refused at MAIL (jsmail-smtpd).");
        Str("bounceformat", false, "asked", "Bounce format (asked: RFC 3464 reports for senders who gave DSN parameters; dsn: for all; qsbmf: qmail's for all) is ");
        Int("bouncemaxbytes", "50000", "A failure report returns the whole message (0: any size) up to ", " bytes");
        Int("delaywarningtime", "0", "A deferred message gets a delay warning (0: never) after ", " seconds");
        // Key file names only: the keys themselves are never printed.
        List("dkimkeys", "jsmail-dkimsign has no keys: it signs nothing.", "DKIM key (jsmail-dkimsign): ", "");
        List("dnsresolvers", "DNS servers from /etc/resolv.conf.", "DNS server: ", ".");
        Int("localinprocess", "1", "jsmail-lspawn delivers to Maildir and mbox in-process (0: through jsmail-local) is ", "");
        Int("localsharedsync", "1", "In-process deliveries ending together share one filesystem sync (0: fsync each file) is ", "");
        Int("maxmail", "0", "SMTP messages per session limit (0: none) is ", "");
        Int("maxrcpt", "100", "SMTP recipients per message limit (0: none) is ", "");
        Str("metrics", false, "", "Metrics (Prometheus) served at ", "No metrics are served.");
        List("milters", "No milters are asked.", "Milter asked by jsmail-smtpd: ", "");
        List("outgoingip", "jsmail-remote connects from the address the kernel chooses.", "jsmail-remote connects from ", " when the peer has its address family.");
        List("plugins", "No native plugins are loaded.", "Native plugin loaded by jsmail-smtpd: ", "");
        Int("plugintimeout", "10", "Native plugin call timeout is ", " seconds");
        List("policy", "No policy services are asked.", "Policy service asked by jsmail-smtpd: ", "");
        Str("quarantine", false, "", "Quarantined messages go to ", "Quarantined messages are held in the queue for jsmail-release.");
        Int("queuedcommitwait", "1000", "jsmail-queued holds a sync for more messages (0: never) at most ", " microseconds");
        List("queuescanners", "No content scanners.", "Content scanner run by jsmail-queue: ", "");
        // Credentials: never printed.
        Cdb("remoteauth", "jsmail-remote does not authenticate to relays.", "jsmail-remote authenticates to the relays listed there (credentials not shown).");
        List("remotedisable", "Every feature of jsmail-remote's SMTP client is on.", "jsmail-remote feature switched off: ", ".");
        Int("remoteidle", "2", "An unused pooled remote session stays open for ", " seconds");
        Int("remotemessagespersession", "1000", "Transactions on one pooled remote session limit is ", "");
        Int("remotepool", "1", "jsmail-rspawn delivers through its pool of sessions (0: a jsmail-remote per delivery) is ", "");
        List("remoteprocessors", "No remote message processors.", "Remote message processor: ", "");
        Int("remoterecipients", "50", "Remote recipients at one domain per delivery limit is ", "");
        Int("remotesessions", "20", "Pooled remote sessions per destination limit is ", "");
        Int("smtpauthtls", "1", "SMTP AUTH offered only under TLS (0: also without) is ", "");
        Str("smtpcheck", false, "", "SMTP check program: ", "No SMTP check program.");
        List("smtpdisable", "Every SMTP extension jsmail-smtpd knows is on.", "SMTP extension switched off: ", ".");
        List("smtpplugins", "No qmail-spp plugins.", "qmail-spp plugins: ", "");
        Int("timeoutlocal", "86400", "Program delivery timeout is ", " seconds");
        Int("timeoutqueuescan", "300", "Content scanner timeout is ", " seconds");
        Int("timeoutremoteprocessor", "60", "Remote message processor timeout is ", " seconds");
        Int("timeoutsmtpplugin", "60", "qmail-spp plugin timeout is ", " seconds");
        List("tlsdestinations", "STARTTLS to every peer that offers it, unverified.", "TLS destination: ", "");
        Str("tlsrptcontact", false, "", "TLS reports (jsmail-tlsrpt) give as contact-info and come from ",
            "TLS reports (jsmail-tlsrpt) give postmaster@ control/me as contact-info and come from it.");
        Str("tlsrptorganization", true, "", "TLS reports (jsmail-tlsrpt) give as organization-name ");
        Cdb("validrcptto.cdb", "Recipients are not checked against a list.", "Recipients in the domains this cdb covers must be listed in it (jsmail-smtpd).");
    }

    /// <summary>Pure: qmail-showctl's judgement of morercpthosts.cdb from the two mtimes (null: stat failed).</summary>
    public static string MoreRcptHostsCdb(long? source, long? cdb) => (source, cdb) switch
    {
        (null, null) => "(Default.) No effect.\n",
        (null, _) => "Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n",
        (_, null) => "Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n",
        var (s, c) when s > c => "Oops! morercpthosts.cdb is older than morercpthosts.\n",
        _ => "Modified recently enough; hopefully up to date.\n",
    };

    private void Int(string name, string def, string pre, string post)
    {
        Put($"\n{name}: ");
        var f = files.Read(name);
        uint? value = f.State == ControlState.Present ? ControlParse.Integer(f.Bytes) : null;
        if (f.State == ControlState.Unreadable) Put("Oops! Trouble reading this file.\n");
        else if (value == null) Put($"(Default.) {pre}{def}{post}.\n");
        else Put(string.Create(CultureInfo.InvariantCulture, $"{pre}{(value > int.MaxValue ? 0 : value)}{post}.\n"));
    }

    private void Str(string name, bool fallbackToMe, string def, string pre, string? defaultSentence = null)
    {
        Put($"\n{name}: ");
        var f = files.Read(name);
        switch (f.State)
        {
            case ControlState.Unreadable:
                Put("Oops! Trouble reading this file.\n");
                return;
            case ControlState.Missing:
                Put("(Default.) ");
                if (defaultSentence != null) { Put(defaultSentence + "\n"); return; }
                Put(pre);
                Safe(fallbackToMe && _me != null ? _me : Encoding.ASCII.GetBytes(def));
                break;
            default:
                Put(pre);
                Safe(ControlParse.Line(f.Bytes));
                break;
        }
        Put(".\n");
    }

    /// <summary>1 present, 0 missing, -1 unreadable: qmail's control_readfile result, which decides morercpthosts' text.</summary>
    private int List(string name, string def, string pre, string post)
    {
        Put($"\n{name}: ");
        var f = files.Read(name);
        if (f.State == ControlState.Unreadable) { Put("Oops! Trouble reading this file.\n"); return -1; }
        if (f.State == ControlState.Missing) { Put($"(Default.) {def}\n"); return 0; }
        Put("\n");
        foreach (var line in ControlParse.List(f.Bytes))
        {
            Put(pre);
            Safe(line);
            Put(post + "\n");
        }
        return 1;
    }

    private void Cdb(string name, string def, string present)
    {
        Put($"\n{name}: ");
        var f = files.Read(name);
        Put(f.State switch
        {
            ControlState.Missing => $"(Default.) {def}\n",
            ControlState.Unreadable => "Oops! Trouble reading this file.\n",
            _ => present + "\n",
        });
    }

    /// <summary>qmail's safeput: bytes outside printable ASCII become '?'.</summary>
    private void Safe(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) _out.WriteByte(b is < 32 or > 126 ? (byte)'?' : b);
    }

    private void Put(string text) => _out.Write(Encoding.ASCII.GetBytes(text));
}
