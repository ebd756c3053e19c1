using System.Net.Security;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp.Session;
using Jsmail.Common.Tcp;
using Jsmail.Common.Tls;

namespace Jsmail.SmtpServer;

/// <summary>
/// Everything the server reads from files, read at start and again on SIGHUP:
/// the control files (as jsmail-smtpd reads them per connection), the
/// certificate and the rules. A session keeps the snapshot it started with,
/// so a reload never changes a conversation in progress.
/// </summary>
public sealed class ServerControls : IStartTlsCheck
{
    private readonly string _home;
    private readonly Dictionary<(bool Compat, ulong? DataBytes), SmtpdSettings> _settings = new();
    private readonly SslStreamCertificateContext? _certificate;
    private readonly string? _certificateProblem;

    /// <summary>The settings without JSMAIL_COMPAT and DATABYTES from the environment.</summary>
    public SmtpdSettings Default { get; }
    public TcpRules? Rules { get; }

    /// <summary>The handshake's certificate; null when control/servercert.pem is missing or unusable.</summary>
    public SslStreamCertificateContext? Certificate => _certificate;

    /// <exception cref="ControlReadException">a control file could not be read</exception>
    /// <exception cref="ControlMissingException">a file that must be there is not</exception>
    /// <exception cref="TcpRulesException">the rules could not be opened</exception>
    public ServerControls(string home, string? rulesFile, bool compat, ulong? dataBytes)
    {
        _home = home;
        Default = SmtpdSettings.Read(new ControlReader(home), home, compat, dataBytes);
        _settings[(compat, dataBytes)] = Default;
        Rules = rulesFile == null ? null : TcpRules.Open(rulesFile, allowMissing: false);
        var pem = Path.Combine(home, "control", SmtpdSettings.CertificateFile);
        if (File.Exists(pem)) _certificate = ServerCertificate.Load(pem, out _certificateProblem);
    }

    /// <summary>
    /// The settings for a session whose environment says JSMAIL_COMPAT and
    /// DATABYTES as given (a rule may set either): read once per kind.
    /// </summary>
    public SmtpdSettings For(bool compat, ulong? dataBytes)
    {
        lock (_settings)
        {
            if (!_settings.TryGetValue((compat, dataBytes), out var s))
                _settings[(compat, dataBytes)] = s = SmtpdSettings.Read(new ControlReader(_home), _home, compat, dataBytes);
            return s;
        }
    }

    /// <summary>STARTTLS is answered with 220 only when the certificate was usable when last read.</summary>
    public bool Prepare(out string? problem)
    {
        problem = _certificateProblem;
        return _certificate != null;
    }
}
