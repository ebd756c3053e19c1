using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Sendmail;

/// <summary>
/// jsmail-sendmail, installed as bin/sendmail: qmail's sendmail wrapper. It
/// changes to the qmail home and execs bin/qmail-inject (or qmail-qread,
/// qmail-smtpd) there, as <see cref="SendmailCommand"/> decides.
/// </summary>
public static class Program
{
    public static int Main()
    {
        string? home = null;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { }
        if (home == null || Libc.Chdir(home) != 0)
            return Fail(111, "sendmail: fatal: unable to switch to qmail home directory\n");

        switch (SendmailCommand.Plan(RawArgs.Read(), Libc.Getenv))
        {
            case SendmailPlan.Stop stop:
                return Fail(stop.ExitCode, stop.Text);
            case SendmailPlan.Exec exec:
                foreach (var (name, value) in exec.Environment)
                {
                    var ok = value == null ? Libc.Unsetenv(name) == 0 : Libc.Setenv(name, value);
                    if (!ok) return Fail(111, "sendmail: fatal: out of memory\n");
                }
                Exec.Replace(exec.Path, exec.Argv, null);
                return Fail(111, exec.FailureText);
            default:
                return Fail(111, "sendmail: fatal: out of memory\n");
        }
    }

    private static int Fail(int code, string text)
    {
        Libc.WriteAll(2, Encoding.ASCII.GetBytes(text));
        return code;
    }
}
