using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>
/// STARTTLS (RFC 3207) and AUTH (RFC 4954: PLAIN, RFC 4616; LOGIN) between
/// EHLO and MAIL, as the connection's <see cref="PeerSecurity"/> asks. Every
/// failure here is temporary: the message waits in the queue for a peer, or a
/// control file, that works. Except for a message with REQUIRETLS (RFC 8689
/// §4.2.1): a peer that cannot give it verified TLS and REQUIRETLS gets
/// nothing, and the message is returned.
/// </summary>
public sealed partial class Dialogue
{
    /// <summary>
    /// The session did not open because this peer cannot meet the message's
    /// REQUIRETLS (reported D): RFC 8689 §4.2.1 has the next MX host tried.
    /// </summary>
    public bool RequireTlsUnmet { get; private set; }

    /// <summary>The extensions to use for the transaction (after STARTTLS, the second EHLO's), or null (reported).</summary>
    private Dictionary<string, string>? Secure(byte[] helo, Dictionary<string, string> extensions)
    {
        var security = smtp.Security;
        var secured = security.RequireTls ? RequiredTls(helo, extensions) : StartTlsAsRuled(helo, extensions);
        if (secured == null) return null;
        return security.Auth == null ? secured : Authenticate(security.Auth, secured) ? secured : null;
    }

    /// <summary>
    /// RFC 8689 §4.2.1 for a message with REQUIRETLS: STARTTLS, a certificate
    /// that verifies for the peer's name, and REQUIRETLS in the EHLO reply under
    /// TLS. Failing TLS is 5.7.10 ("encryption needed"), a peer without
    /// REQUIRETLS 5.7.30 ("REQUIRETLS support required"), as §4.2.1 names them;
    /// both permanent, since the message may not go any other way.
    /// </summary>
    private Dictionary<string, string>? RequiredTls(byte[] helo, Dictionary<string, string> extensions)
    {
        var reporting = smtp.Security.Reporting;
        if (!extensions.ContainsKey("STARTTLS"))
        {
            reporting?.Failed(TlsResultType.StartTlsNotSupported, "STARTTLS not offered", smtp.LocalAddress);
            return Unmet($"Connected to {ip} but it does not offer STARTTLS, and this message requires TLS (REQUIRETLS). (#5.7.10)\n");
        }
        smtp.Command("STARTTLS");
        var reply = smtp.ReadReply();
        if (reply.Code != 220)
        {
            reporting?.Failed(TlsResultType.StartTlsNotSupported, "STARTTLS refused", smtp.LocalAddress);
            return Unmet($"Connected to {ip} but STARTTLS was refused ({reply.Code}), and this message requires TLS (REQUIRETLS). (#5.7.10)\n");
        }
        var why = "";
        var ourFault = false;
        try
        {
            smtp.StartTls(TlsOptions(smtp.Security, e => why = e, () => ourFault = true));
            reporting?.Established(smtp.LocalAddress);
        }
        catch (TlsFailedException e)
        {
            if (!ourFault) reporting?.HandshakeFailed(why.Length > 0 ? why : e.Message, smtp.LocalAddress);
            // The connection is in an unknown state: no QUIT, nothing more sent.
            if (ourFault)
            {
                // an unreadable CA file is the administrator's to mend, not the peer's failing: try again later
                report.Add('Z', $"Connected to {ip} but the TLS handshake failed: {why}. (#4.7.0)\n");
                return null;
            }
            RequireTlsUnmet = true;
            report.Add('D', $"Connected to {ip} but the TLS handshake failed: {(why.Length > 0 ? why : e.Message)}; this message requires verified TLS (REQUIRETLS). (#5.7.10)\n");
            return null;
        }
        var again = Hello(helo);
        if (again == null) return null;
        if (!again.ContainsKey("REQUIRETLS"))
            return Unmet($"Connected to {ip} but it does not support REQUIRETLS, which this message requires. (#5.7.30)\n");
        return again;
    }

    private Dictionary<string, string>? Unmet(string text)
    {
        RequireTlsUnmet = true;
        Quit('D', text);
        return null;
    }

    /// <summary>STARTTLS as control/tlsdestinations rules it: the extensions to go on with, or null (reported, temporary).</summary>
    private Dictionary<string, string>? StartTlsAsRuled(byte[] helo, Dictionary<string, string> extensions)
    {
        var security = smtp.Security;
        var tls = security.Tls;
        if (tls.Mode != TlsMode.Off)
        {
            if (!extensions.ContainsKey("STARTTLS"))
            {
                security.Reporting?.Failed(TlsResultType.StartTlsNotSupported, "STARTTLS not offered", smtp.LocalAddress);
                if (tls.Required)
                {
                    security.DaneObserve?.Invoke(DaneResult.StartTlsNotSupported, $"{ip} does not offer STARTTLS");
                    Quit('Z', $"Connected to {ip} but it does not offer STARTTLS, which " + (tls.RequiredBy is { } by ? $"{by} requires" :
                        $"control/tlsdestinations requires for {Report.Printable(Encoding.UTF8.GetBytes(security.Destination))}") + $". (#{TlsStatus(tls)})\n");
                    return null;
                }
                security.Observe?.Invoke($"{ip} does not offer STARTTLS");
            }
            else
            {
                smtp.Command("STARTTLS");
                var reply = smtp.ReadReply();
                if (reply.Code == 220)
                {
                    var why = "";
                    try
                    {
                        smtp.StartTls(TlsOptions(security, e => why = e));
                        security.Reporting?.Established(smtp.LocalAddress);
                    }
                    catch (TlsFailedException e)
                    {
                        security.Reporting?.HandshakeFailed(why.Length > 0 ? why : e.Message, smtp.LocalAddress);
                        // The connection is in an unknown state: no QUIT, nothing more sent.
                        var required = why.Length == 0 || tls.RequiredBy is not { } by ? ""
                            : tls.Mode == TlsMode.Dane ? $"; {by} requires a certificate that matches them"
                            : $"; {by} requires a certificate that verifies for {security.PeerName}";
                        report.Add('Z', $"Connected to {ip} but the TLS handshake failed: {(why.Length > 0 ? why : e.Message)}{required}. (#{TlsStatus(tls)})\n");
                        return null;
                    }
                    var again = Hello(helo);
                    if (again == null) return null;
                    extensions = again;
                }
                else if (tls.Required)
                {
                    security.Reporting?.Failed(TlsResultType.StartTlsNotSupported, "STARTTLS refused", smtp.LocalAddress);
                    security.DaneObserve?.Invoke(DaneResult.StartTlsNotSupported, $"{ip} refused STARTTLS");
                    Quit('Z', "Connected to ", " but STARTTLS was refused", reply.Text);
                    return null;
                }
                else
                {
                    security.Reporting?.Failed(TlsResultType.StartTlsNotSupported, "STARTTLS refused", smtp.LocalAddress);
                    security.Observe?.Invoke($"{ip} refused STARTTLS");
                }
            }
        }
        return extensions;
    }

    /// <summary>RFC 3463's code for a TLS failure: 4.7.5 ("cryptographic failure") under DANE, else 4.7.0.</summary>
    private static string TlsStatus(TlsPolicy tls) => tls.Mode == TlsMode.Dane ? "4.7.5" : "4.7.0";

    /// <summary>
    /// Any certificate unless the rule is Verify: then the chain must reach the
    /// CA file's roots (or the system's) and name the peer; or Dane: then the
    /// peer's TLSA records alone judge it (<see cref="DaneVerifier"/>).
    /// </summary>
    /// <param name="caUnreadable">called when the rule's CA file could not be read (the certificate was then refused)</param>
    private static SslClientAuthenticationOptions TlsOptions(PeerSecurity security, Action<string> rejected, Action? caUnreadable = null)
    {
        var verify = security.Tls.Mode == TlsMode.Verify;
        var name = security.PeerName.Length > 0 ? security.PeerName : security.Destination;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = name.StartsWith('[') ? name.Trim('[', ']') : name,
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.None, // the system's choice
        };
        if (security.Tls.Mode == TlsMode.Dane)
        {
            // RFC 7672 §2.2.2, §8.1: the TLSA base domain (an alias's expanded name, when its records are there) is the SNI name.
            var names = security.DaneNames.Count > 0 ? security.DaneNames : [name];
            options.TargetHost = names[0];
            options.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                var leaf = certificate as X509Certificate2 ?? (certificate == null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                var problem = DaneVerifier.Problem(security.Tlsa, leaf, Sent(leaf, chain), names);
                if (problem == null) security.DaneObserve?.Invoke(DaneResult.Success, $"the certificate matches a TLSA record of {names[0]}");
                else
                {
                    security.Reporting?.Note(TlsResultType.ValidationFailure, problem);
                    security.DaneObserve?.Invoke(DaneResult.CertificateMismatch, problem);
                    rejected(problem);
                }
                return problem == null;
            };
            return options;
        }
        if (!verify)
        {
            // MTA-STS testing reports what enforce would refuse (RFC 8460 §4.3.1); without a policy any certificate is a success.
            options.RemoteCertificateValidationCallback = security.Observe is { } observe
                ? MtaStsObserver.Callback(name, observe, (errors, chain, what) => security.Reporting?.Note(TlsResultType.Of(errors, chain), what))
                : (_, _, _, _) => true;
            return options;
        }
        var policy = new X509ChainPolicy { RevocationMode = X509RevocationMode.NoCheck };
        string? caProblem = null;
        if (security.Tls.CaFile is { } caFile)
        {
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            try { policy.CustomTrustStore.AddRange(LoadPem(caFile)); }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
                caProblem = $"no CA certificate could be read from {caFile}";
            }
        }
        options.CertificateChainPolicy = policy;
        options.RemoteCertificateValidationCallback = (_, _, chain, errors) =>
        {
            if (caProblem != null) { rejected(caProblem); caUnreadable?.Invoke(); return false; }
            if (errors == SslPolicyErrors.None) return true;
            var problem = MtaStsObserver.Problem(errors, chain, name);
            security.Reporting?.Note(TlsResultType.Of(errors, chain), problem);
            rejected(problem);
            return false;
        };
        return options;
    }

    /// <summary>The certificates the peer sent (the chain's extra store holds them) and those the chain was built of.</summary>
    private static List<X509Certificate2> Sent(X509Certificate2? leaf, X509Chain? chain)
    {
        var list = new List<X509Certificate2>();
        if (leaf != null) list.Add(leaf);
        if (chain == null) return list;
        list.AddRange(chain.ChainPolicy.ExtraStore);
        list.AddRange(chain.ChainElements.Select(e => e.Certificate));
        return list;
    }

    private static X509Certificate2Collection LoadPem(string path)
    {
        var certs = new X509Certificate2Collection();
        certs.ImportFromPemFile(path);
        if (certs.Count == 0) throw new CryptographicException("no certificate");
        return certs;
    }

    /// <summary>AUTH PLAIN if offered, else LOGIN; false when it cannot or was refused (reported, temporary).</summary>
    private bool Authenticate(Credentials credentials, Dictionary<string, string> extensions)
    {
        if (!smtp.Encrypted && !credentials.WithoutTls)
        {
            Quit('Z', $"Connected to {ip} but without TLS, and control/remoteauth sends credentials only over TLS. (#4.7.0)\n");
            return false;
        }
        var mechanisms = extensions.TryGetValue("AUTH", out var list)
            ? list.ToUpperInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet()
            : [];
        if (mechanisms.Contains("PLAIN"))
        {
            smtp.Command("AUTH PLAIN " + credentials.PlainResponse());
            var reply = smtp.ReadReply();
            if (reply.Code == 235) return true;
            Quit('Z', "Connected to ", " but authentication was rejected (AUTH PLAIN)", reply.Text);
            return false;
        }
        if (mechanisms.Contains("LOGIN"))
        {
            smtp.Command("AUTH LOGIN");
            var reply = smtp.ReadReply();
            foreach (var answer in new[] { credentials.User, credentials.Password })
            {
                if (reply.Code != 334) break;
                smtp.Command(Convert.ToBase64String(answer));
                reply = smtp.ReadReply();
            }
            if (reply.Code == 235) return true;
            Quit('Z', "Connected to ", " but authentication was rejected (AUTH LOGIN)", reply.Text);
            return false;
        }
        Quit('Z', $"Connected to {ip} but it offers no AUTH PLAIN or LOGIN for the credentials in control/remoteauth. (#4.7.0)\n");
        return false;
    }
}
