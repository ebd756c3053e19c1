using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Jsmail.Common.Tls;

/// <summary>
/// The server side of TLS for SMTP: the certificate, its key and any
/// intermediate certificates from one PEM file (control/servercert.pem, as
/// the qmail TLS patch keeps them), and how a session describes what was
/// negotiated in its Received line.
/// </summary>
public static class ServerCertificate
{
    /// <summary>The context a handshake needs; null (and the reason) when the file is not usable.</summary>
    public static SslStreamCertificateContext? Load(string pemPath, out string? problem)
    {
        problem = null;
        try
        {
            var leaf = X509Certificate2.CreateFromPemFile(pemPath);
            if (!leaf.HasPrivateKey) { problem = "no private key"; return null; }
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(pemPath);
            var chain = new X509Certificate2Collection();
            foreach (var c in all)
                if (!c.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) chain.Add(c);
            return SslStreamCertificateContext.Create(leaf, chain, offline: true);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            problem = e.GetType().Name;
            return null;
        }
    }

    /// <summary>The options for the server's handshake: no client certificate, encryption required.</summary>
    public static SslServerAuthenticationOptions Options(SslStreamCertificateContext context) => new()
    {
        ServerCertificateContext = context,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EncryptionPolicy = EncryptionPolicy.RequireEncryption,
    };

    /// <summary>What the Received line says: protocol version and cipher suite, letters, digits and '_' only.</summary>
    public static string Describe(SslProtocols protocol, string cipher)
    {
        var version = protocol switch
        {
            SslProtocols.Tls13 => "TLSv1.3",
            SslProtocols.Tls12 => "TLSv1.2",
            _ => "TLS",
        };
        var clean = new string(cipher.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').ToArray());
        return clean.Length == 0 ? version : version + " " + clean;
    }
}
