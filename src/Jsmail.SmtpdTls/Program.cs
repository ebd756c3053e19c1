using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.SmtpdTls;

/// <summary>
/// jsmail-smtpd-tls: jsmail-smtpd with STARTTLS done in-process over SslStream.
/// jsmail-smtpd execs it after answering STARTTLS (JSMAIL_SMTPD_STARTTLS set:
/// handshake first, no greeting); run directly by tcpserver it is a whole
/// jsmail-smtpd of its own, only with a slower start.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        int? handedOver = null;
        if (Libc.GetenvText(TlsHandoverProtocol.Variable) is { } v)
            handedOver = int.TryParse(v, out var failures) ? failures : 0;
        return SmtpdMain.Run(args, (_, pem) => new ServerTls(pem), handedOver);
    }
}
