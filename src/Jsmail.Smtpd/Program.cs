using Jsmail.Common.Smtp.Session;

namespace Jsmail.Smtpd;

/// <summary>
/// jsmail-smtpd, a drop-in qmail-smtpd run by tcpserver (docs/jsmail-smtpd.md).
/// STARTTLS is handed to jsmail-smtpd-tls by exec, so that no TLS code is part
/// of this program's start-up.
/// </summary>
public static class Program
{
    public static int Main(string[] args) =>
        SmtpdMain.Run(args, (home, pem) => new TlsHandover(home, pem), handedOver: null);
}
