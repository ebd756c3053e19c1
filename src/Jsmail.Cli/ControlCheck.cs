using System.Text;

namespace Jsmail.Cli;

/// <summary>
/// The control files, line by line: a number where a number belongs, a
/// <c>key:value</c> line in the maps, one host or address a line in the lists;
/// each bad line is an error with its line number, a name no program reads a
/// warning (a typo leaves a setting silently unset).
/// </summary>
public sealed class ControlCheck(string directory, InstallationCheck check)
{
    private static readonly HashSet<string> Numbers =
    [
        "concurrencylocal", "concurrencyremote", "concurrencyincoming", "databytes", "queuelifetime", "timeoutconnect",
        "timeoutremote", "timeoutsmtpd", "timeoutlocal", "timeoutqueuescan", "timeoutsmtpplugin", "maxrcpt", "maxmail", "remoterecipients",
        "bouncemaxbytes", "delaywarningtime", "plugintimeout", "queuedcommitwait", "remoteidle", "remotemessagespersession", "remotepool",
        "remotesessions", "smtpauthtls", "timeoutremoteprocessor",
    ];

    private static readonly HashSet<string> Maps = ["virtualdomains", "smtproutes"];

    private static readonly HashSet<string> Hosts =
    [
        "me", "defaultdomain", "plusdomain", "defaulthost", "locals", "rcpthosts", "morercpthosts", "percenthack",
        "bouncehost", "doublebouncehost", "envnoathost", "helohost", "idhost", "localiphost",
    ];

    private static readonly HashSet<string> Others =
    [
        "badmailfrom", "bouncefrom", "doublebounceto", "smtpgreeting", "morercpthosts.cdb", "dkimkeys", "dnsresolvers",
        "localinprocess", "localsharedsync", "outgoingip", "queuescanners", "remoteauth", "smtpcheck", "tlsdestinations", "smtpplugins",
        "metrics", "milters", "servercert.pem", "clientcert.pem", "dh2048.pem", "rsa2048.pem", "tlsserverciphers", "tlsclientciphers",
        "tlsrptorganization", "tlsrptcontact", "bounceformat", "plugins", "policy", "quarantine", "remotedisable", "remoteprocessors",
        "smtpdisable", "badhelo.cdb", "badmailfrom.cdb", "validrcptto.cdb",
    ];

    /// <summary>Whether some program reads control/<paramref name="name"/>.</summary>
    public static bool Known(string name) => Numbers.Contains(name) || Maps.Contains(name) || Hosts.Contains(name) || Others.Contains(name);

    public void Run()
    {
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(directory).Order().ToList(); }
        catch (IOException e) { check.Error($"unable to read control/: {e.Message}"); return; }
        if (!File.Exists(Path.Combine(directory, "me"))) check.Error("control/me is missing: every program needs the host's name");
        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.') || name.EndsWith(".tmp") || name.EndsWith(".new")) continue;
            if (!Known(name))
            {
                check.Warning($"control/{name}: unknown control file (no program reads it)");
                continue;
            }
            byte[] content;
            try { content = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { check.Error($"control/{name}: unreadable: {e.Message}"); continue; }
            var lines = Encoding.Latin1.GetString(content).Split('\n');
            if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
            for (var i = 0; i < lines.Length; i++)
                if (Bad(name, lines[i].TrimEnd(' ', '\t', '\r'), i) is { } why) check.Error($"control/{name}:{i + 1}: {why}");
        }
    }

    private static string? Bad(string name, string line, int index)
    {
        if (Numbers.Contains(name))
            return index > 0 ? "a number file has one line" : line.Length == 0 || !line.All(char.IsAsciiDigit) ? $"not a number: '{line}'" : null;
        if (line.Length == 0 || line.StartsWith('#')) return null;
        if (Maps.Contains(name))
        {
            var colon = line.IndexOf(':');
            if (colon < 0) return $"no ':' in '{line}'";
            if (name == "smtproutes")
            {
                var relay = line[(colon + 1)..];
                var port = relay.StartsWith('[') ? relay.IndexOf(':', Math.Max(0, relay.IndexOf(']'))) : relay.IndexOf(':');
                if (port >= 0 && (relay.Length == port + 1 || !relay[(port + 1)..].All(char.IsAsciiDigit))) return $"bad port in '{line}'";
            }
            return null;
        }
        if (Hosts.Contains(name) && line.Any(ch => ch is ' ' or '\t' or ':' or ',' or ';' or '<' or '>' || char.IsControl(ch)))
            return $"not a host name: '{line}'";
        return null;
    }
}
