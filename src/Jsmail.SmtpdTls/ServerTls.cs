using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;

using Jsmail.Common.Os;
using Jsmail.Common.Tls;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.SmtpdTls;

/// <summary>
/// STARTTLS (RFC 3207) in jsmail-smtpd-tls: the certificate, its key and any
/// intermediate certificates from one PEM file (control/servercert.pem, as the
/// qmail TLS patch keeps them), and the handshake over fds 0 and 1. The TLS
/// library (OpenSSL) is loaded only when a handshake starts.
/// </summary>
public sealed class ServerTls(string pemPath) : ITlsUpgrade
{
    private SslStreamCertificateContext? _context;

    /// <summary>Reads the certificate and key; false (and the reason) when they are not usable.</summary>
    public bool Prepare(out string? problem)
    {
        problem = null;
        _context ??= ServerCertificate.Load(pemPath, out problem);
        return _context != null;
    }

    /// <summary>
    /// The server side of the handshake over the plain transport's fds; null
    /// when it fails or times out, after which the connection is simply closed.
    /// </summary>
    public IByteTransport? Handshake(FdTransport plain, int authFailures, out string description)
    {
        description = "";
        if (!Prepare(out _)) return null;
        var stream = new FdStream(plain.InFd, plain.OutFd, plain.TimeoutSeconds);
        var ssl = new SslStream(stream, leaveInnerStreamOpen: true);
        try
        {
            ssl.AuthenticateAsServer(ServerCertificate.Options(_context!));
            description = ServerCertificate.Describe(ssl.SslProtocol, ssl.NegotiatedCipherSuite.ToString());
            return new TlsTransport(ssl, stream);
        }
        catch (Exception e) when (e is IOException or AuthenticationException or InvalidOperationException
                                      or CryptographicException or ObjectDisposedException)
        {
            ssl.Dispose();
            return null;
        }
    }
}

/// <summary>The session after STARTTLS: reads and writes through the SslStream.</summary>
public sealed class TlsTransport(SslStream ssl, FdStream inner) : IByteTransport
{
    public int Read(Span<byte> buffer)
    {
        try { return ssl.Read(buffer); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return inner.TimedOut ? -1 : 0;
        }
    }

    public void Close()
    {
        // SslStream offers close_notify only as a task; over the blocking FdStream it completes synchronously.
        try { ssl.ShutdownAsync().GetAwaiter().GetResult(); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
    }

    public bool Write(ReadOnlySpan<byte> data)
    {
        try
        {
            ssl.Write(data);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }
}
