using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.Smtpd;

/// <summary>
/// jsmail-smtpd, a drop-in qmail-smtpd run by tcpserver (docs/jsmail-smtpd.md).
/// STARTTLS is handed to jsmail-smtpd-tls by exec, so that no TLS code is part
/// of this program's start-up. Started with a long option (<c>--listen ...</c>)
/// it becomes the server mode: bin/jsmail-smtpd-server, by exec.
/// </summary>
public static class Program
{
    public const string ServerProgram = "jsmail-smtpd-server";

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal)) return ExecServer();
        return SmtpdMain.Run(args, (home, pem) => new TlsHandover(home, pem), handedOver: null);
    }

    /// <summary>The same argv and environment; returns only when the exec failed.</summary>
    private static int ExecServer()
    {
        var program = Path.Combine(QmailHome.Current, "bin", ServerProgram);
        var argv = RawArgs.Read();
        argv[0] = System.Text.Encoding.UTF8.GetBytes(program);
        Exec.Replace(program, argv, null);
        Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes($"jsmail-smtpd: fatal: unable to run {program}: {ErrorText.Describe(Libc.Errno)}\n"));
        return 111;
    }
}
