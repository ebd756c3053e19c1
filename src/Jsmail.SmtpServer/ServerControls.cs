using System.Net.Security;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Smtp.Session;
using Jsmail.Common.Tcp;
using Jsmail.Common.Tls;

namespace Jsmail.SmtpServer;

/// <summary>
/// Everything the server reads from files, read at start and again on SIGHUP:
/// the control files (as jsmail-smtpd reads them per connection), the
/// certificate and the rules. A session keeps the snapshot it started with,
/// so a reload never changes a conversation in progress. Files that cannot
/// be read are not fatal: as under tcpserver, each connection is then
/// dropped (rules) or answered 421 (controls) until a reload reads them.
/// </summary>
public sealed class ServerControls : IStartTlsCheck
{
    private readonly string _home;
    private readonly Dictionary<(bool Compat, ulong? DataBytes), SmtpdSettings> _settings = new();
    private readonly string? _certificateProblem;
    private readonly Dictionary<string, (SppConfig? Config, bool Readable)> _plugins = new();

    /// <summary>The settings without JSMAIL_COMPAT and DATABYTES from a rule; null when the controls could not be read.</summary>
    public SmtpdSettings? Default { get; }
    /// <summary>Why the controls or the rules could not be read; null when they could.</summary>
    public string? Problem { get; }
    public TcpRules? Rules { get; }
    /// <summary>--remote-host's lookups, with the resolvers of this snapshot's control/dnsresolvers; null: names are not looked up.</summary>
    public RemoteHostLookup? HostLookup { get; init; }
    public bool RulesUnreadable { get; }

    /// <summary>The handshake's certificate; null when control/servercert.pem is missing or unusable.</summary>
    public SslStreamCertificateContext? Certificate { get; }

    public ServerControls(string home, string? rulesFile, bool compat, ulong? dataBytes)
    {
        _home = home;
        Default = TryRead(compat, dataBytes, out var problem);
        if (Default != null) _settings[(compat, dataBytes)] = Default;
        try { Rules = rulesFile == null ? null : TcpRules.Open(rulesFile, allowMissing: false); }
        catch (TcpRulesException e)
        {
            RulesUnreadable = true;
            problem = $"unable to read {e.Path}: {e.Message}";
        }
        Problem = problem;
        var pem = Path.Combine(home, "control", SmtpdSettings.CertificateFile);
        if (File.Exists(pem)) Certificate = ServerCertificate.Load(pem, out _certificateProblem);
    }

    /// <summary>control/dnsresolvers, as jsmail-remote reads it (none or unreadable: /etc/resolv.conf's).</summary>
    public static List<System.Net.IPEndPoint> DnsServers(string home)
    {
        try { return Jsmail.Common.Remote.RemoteSettings.DnsServersOf(new ControlReader(home).ReadList("dnsresolvers")); }
        catch (Exception e) when (e is ControlReadException or IOException) { return []; }
    }

    /// <summary>
    /// The settings for a session whose environment says JSMAIL_COMPAT and
    /// DATABYTES as given (a rule may set either): read once per kind; null
    /// when they cannot be read (the session gets qmail's 421).
    /// </summary>
    public SmtpdSettings? For(bool compat, ulong? dataBytes)
    {
        lock (_settings)
        {
            if (_settings.TryGetValue((compat, dataBytes), out var s)) return s;
            s = TryRead(compat, dataBytes, out _);
            if (s != null) _settings[(compat, dataBytes)] = s;
            return s;
        }
    }

    private SmtpdSettings? TryRead(bool compat, ulong? dataBytes, out string? problem)
    {
        problem = null;
        try { return SmtpdSettings.Read(new ControlReader(_home), _home, compat, dataBytes); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException or IOException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The qmail-spp plugins for a session with NOSPP and SPPCONFFILE as its
    /// environment has them, read once per file name; false when the file is
    /// named and missing or cannot be read (the session gets qmail's 421).
    /// </summary>
    public bool TryPlugins(byte[]? noSpp, byte[]? confFile, out SppConfig? plugins)
    {
        plugins = null;
        if (noSpp != null) return true;
        var key = confFile == null ? "" : System.Text.Encoding.UTF8.GetString(confFile);
        lock (_plugins)
        {
            if (!_plugins.TryGetValue(key, out var read))
            {
                try { read = (SppConfig.Load(new ControlReader(_home), null, confFile), true); }
                catch (Exception e) when (e is ControlReadException or ControlMissingException or IOException) { read = (null, false); }
                _plugins[key] = read;
            }
            plugins = read.Config;
            return read.Readable;
        }
    }

    /// <summary>STARTTLS is answered with 220 only when the certificate was usable when last read.</summary>
    public bool Prepare(out string? problem)
    {
        problem = _certificateProblem;
        return Certificate != null;
    }
}
