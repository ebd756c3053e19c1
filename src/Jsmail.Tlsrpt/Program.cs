using System.CommandLine;
using System.Globalization;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Remote;

namespace Jsmail.Tlsrpt;

/// <summary>
/// jsmail-tlsrpt (docs/tls-reporting.md): the RFC 8460 reports of one UTC
/// day (yesterday unless <c>--day</c>), from what jsmail-remote and
/// jsmail-rspawn recorded in queue/tlsrpt/. Exit codes: 0 done (or
/// reporting is off), 100 a bad request, 111 trouble.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var day = new Option<string?>("--day") { Description = "the UTC day to report, YYYY-MM-DD (default: yesterday)" };
        var output = new Option<string?>("--output") { Description = "the directory for the report files (default HOME/queue/tlsrpt/reports)" };
        var noMail = new Option<bool>("--no-mail") { Description = "only write the report files; mail nothing" };
        var root = new RootCommand("jsmail-tlsrpt: write (and mail) the day's SMTP TLS reports (RFC 8460)") { day, output, noMail };
        root.SetAction(p => Run(p.GetValue(day), p.GetValue(output), !p.GetValue(noMail)));
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            parsed.Invoke();
            return 100;
        }
        return parsed.Invoke();
    }

    private static int Run(string? dayText, string? output, bool mail)
    {
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        if (dayText != null && !DateOnly.TryParseExact(dayText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            Console.Error.WriteLine($"jsmail-tlsrpt: --day {dayText} is not a date YYYY-MM-DD");
            return 100;
        }
        string home;
        RemoteSettings settings;
        Reporter reporter;
        try
        {
            home = QmailHome.Current;
            var control = new ControlReader(home);
            settings = RemoteSettings.Read(control);
            reporter = ReporterOf(control);
        }
        catch (Exception e) when (e is IOException or ControlMissingException or InvalidOperationException)
        {
            Console.Error.WriteLine("jsmail-tlsrpt: unable to read control files: " + e.Message);
            return 111;
        }
        if (settings.Compat || (settings.Features & RemoteFeatures.TlsReporting) == 0)
        {
            Console.WriteLine("jsmail-tlsrpt: TLS reporting is off (" + (settings.Compat ? "JSMAIL_COMPAT=qmail" : "TLSRPT in control/remotedisable") + "): nothing done");
            return 0;
        }
        var directory = output != null ? Path.GetFullPath(output) : Path.Combine(home, TlsSessionLog.Directory, "reports");
        try { return new DayReports(home, reporter, directory, mail, new ReportDns(settings), Console.Out).Run(day); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("jsmail-tlsrpt: " + e.Message);
            return 111;
        }
    }

    /// <summary>control/tlsrptorganization (default control/me), control/tlsrptcontact (default postmaster@ control/me).</summary>
    private static Reporter ReporterOf(ControlReader control)
    {
        var me = Encoding.UTF8.GetString(control.ReadLine("me", fallbackToMe: false, literalDefault: null)).Trim();
        var organization = Encoding.UTF8.GetString(control.ReadLine("tlsrptorganization", fallbackToMe: true, literalDefault: null)).Trim();
        var contact = Encoding.UTF8.GetString(control.ReadLine("tlsrptcontact", fallbackToMe: false, literalDefault: Encoding.UTF8.GetBytes("postmaster@" + me))).Trim();
        return new Reporter(organization, contact, me);
    }
}
