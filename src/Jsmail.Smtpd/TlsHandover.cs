using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.Smtpd;

/// <summary>
/// STARTTLS in jsmail-smtpd: after the 220, exec bin/jsmail-smtpd-tls with the
/// same argv and environment plus <see cref="TlsHandoverProtocol.Variable"/>.
/// fds 0 and 1 carry over; whatever was read from the client after STARTTLS
/// stays behind, which is exactly what RFC 3207 and CVE-2011-0411 ask for.
/// </summary>
public sealed class TlsHandover(string home, string pemPath) : ITlsUpgrade
{
    /// <summary>Only whether the file can be opened: reading it is jsmail-smtpd-tls's job.</summary>
    public bool Prepare(out string? problem)
    {
        problem = null;
        using var pem = OwnedFd.Open(pemPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (!pem.IsOpen) problem = ErrorText.Describe(Libc.Errno);
        return pem.IsOpen;
    }

    public IByteTransport? Handshake(FdTransport plain, int authFailures, out string description)
    {
        description = "";
        var program = Path.Combine(home, "bin", TlsHandoverProtocol.Program);
        var argv = RawArgs.Read();
        argv[0] = Encoding.UTF8.GetBytes(program);
        var env = Libc.EnvironmentEntries(TlsHandoverProtocol.Variable);
        env.Add(Encoding.ASCII.GetBytes($"{TlsHandoverProtocol.Variable}={authFailures}"));
        Exec.Replace(program, argv, env); // returns only when it failed
        return null;
    }
}
