using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Sendmail;

/// <summary>What sendmail does in the end: run a program from the qmail home, or stop with a message.</summary>
public abstract record SendmailPlan
{
    /// <summary>execv of <paramref name="Path"/> (relative to the home) after the environment changes, in order
    /// (a null value unsets). <paramref name="FailureText"/> is printed if the exec fails (exit 111).</summary>
    public sealed record Exec(string Path, List<byte[]> Argv, List<(string Name, byte[]? Value)> Environment, string FailureText)
        : SendmailPlan;

    public sealed record Stop(int ExitCode, string Text) : SendmailPlan;
}

/// <summary>
/// qmail's sendmail wrapper (interfaces §9.9): the options programs pass to
/// /usr/sbin/sendmail, mapped onto qmail-inject, qmail-qread or qmail-smtpd.
/// Pure: argv and a view of the environment in, a plan out.
/// </summary>
public static class SendmailCommand
{
    public const string Options = "vimte:f:p:o:B:F:EJxb:";

    public const string Usage = "sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]\n";

    private static SendmailPlan MailQueue(List<(string, byte[]?)> env) =>
        new SendmailPlan.Exec("bin/qmail-qread", [B("bin/qmail-qread")], env, "sendmail: fatal: unable to run qmail-qread\n");

    /// <param name="argv">argv with argv[0]</param>
    /// <param name="getenv">the environment as sendmail starts</param>
    /// <param name="reportOptionProblems">print getopt's own message on fd 2, as qmail does</param>
    public static SendmailPlan Plan(IReadOnlyList<byte[]> argv, Func<string, byte[]?> getenv, bool reportOptionProblems = true)
    {
        var env = new List<(string, byte[]?)>();
        var getopt = new QmailGetopt(argv, Options) { Report = reportOptionProblems };
        var header = false;
        byte[]? sender = null;
        int c;
        while ((c = getopt.Next()) != QmailGetopt.End)
            switch (c)
            {
                case 'B' or 'p' or 'v' or 'i' or 'x' or 'm' or 'e' or 'o': break;
                case 't': header = true; break;
                case 'f': sender = getopt.Value; break;
                case 'F': env.Add(("MAILNAME", getopt.Value)); break;
                case 'E' or 'J': getopt.SkipRestOfArgument(); break; // an optional glued value
                case 'b':
                    var mode = getopt.Value!.Length > 0 ? getopt.Value[0] : 0;
                    if (mode == 'm') break;
                    if (mode == 'p') return MailQueue(env);
                    if (mode == 's') return Smtpd(env, getenv);
                    return new SendmailPlan.Stop(100, Usage);
                default:
                    return new SendmailPlan.Stop(100, Usage);
            }

        var name = QmailGetopt.ProgramName(argv);
        if (name.AsSpan().SequenceEqual("mailq"u8)) return MailQueue(env);
        if (name.AsSpan().SequenceEqual("newaliases"u8))
            return new SendmailPlan.Stop(100, "sendmail: fatal: please use fastforward/newaliases instead\n");

        var inject = new List<byte[]> { B("bin/qmail-inject"), B(header ? "-H" : "-a") };
        if (sender != null)
        {
            inject.Add(B("-f"));
            inject.Add(sender);
            SenderEnvironment(sender, env);
        }
        inject.Add(B("--"));
        inject.AddRange(argv.Skip(getopt.Index));
        return new SendmailPlan.Exec("bin/qmail-inject", inject, env, "sendmail: fatal: unable to run qmail-inject\n");
    }

    /// <summary>-bs: qmail-smtpd on stdin/stdout, with a local connection's variables unless PROTO is set.</summary>
    private static SendmailPlan Smtpd(List<(string, byte[]?)> env, Func<string, byte[]?> getenv)
    {
        if (getenv("PROTO") == null)
        {
            env.Add(("RELAYCLIENT", []));
            env.Add(("DATABYTES", B("0")));
            env.Add(("PROTO", B("TCP")));
            env.Add(("TCPLOCALIP", B("127.0.0.1")));
            env.Add(("TCPLOCALHOST", B("localhost")));
            env.Add(("TCPREMOTEIP", B("127.0.0.1")));
            env.Add(("TCPREMOTEHOST", B("localhost")));
            env.Add(("TCPREMOTEINFO", B("sendmail-bs")));
        }
        return new SendmailPlan.Exec("bin/qmail-smtpd", [B("bin/qmail-smtpd")], env, "sendmail: fatal: unable to run qmail-smtpd\n");
    }

    /// <summary>-f also makes the sender the From (netqmail): the name and host variables go, and
    /// QMAILUSER/QMAILHOST are split from the address at its last '@'.</summary>
    private static void SenderEnvironment(byte[] sender, List<(string, byte[]?)> env)
    {
        foreach (var v in new[] { "QMAILNAME", "MAILNAME", "NAME", "QMAILHOST", "MAILHOST" }) env.Add((v, null));
        var at = Array.LastIndexOf(sender, (byte)'@');
        if (at < 0)
        {
            env.Add(("QMAILUSER", sender));
            return;
        }
        env.Add(("QMAILHOST", sender[(at + 1)..]));
        env.Add(("QMAILUSER", sender[..at]));
    }

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);
}
