using System.Globalization;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Remote;

namespace Jsmail.Tlsrpt;

/// <summary>
/// One day's reports: the sessions of queue/tlsrpt/YYYY-MM-DD aggregated per
/// policy domain, each report written gzipped to the report directory under
/// its §5.1 name (a new file, renamed into place), then mailed to the
/// domain's mailto: addresses. A domain whose report file already exists is
/// skipped: a second run for a day mails nothing twice. A report that could
/// not be mailed is removed again, so that the next run tries it again.
/// </summary>
internal sealed class DayReports(string home, Reporter reporter, string reportDirectory, bool mail, ReportDns dns, TextWriter output)
{
    /// <summary>0: every report written (and mailed); 111: some could not be.</summary>
    public int Run(DateOnly day)
    {
        var path = Path.Combine(home, TlsSessionLog.Directory, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        if (!File.Exists(path))
        {
            output.WriteLine($"jsmail-tlsrpt: no TLS sessions recorded for {day:yyyy-MM-dd}");
            return 0;
        }
        var sessions = new List<SessionRecord>();
        var skipped = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0) continue;
            if (SessionRecord.Parse(line) is { } s) sessions.Add(s);
            else skipped++;
        }
        if (skipped > 0) output.WriteLine($"jsmail-tlsrpt: {skipped} unreadable lines of {path} skipped");
        Directory.CreateDirectory(reportDirectory);
        var failed = 0;
        foreach (var domain in sessions.GroupBy(s => s.PolicyDomain).OrderBy(g => g.Key, StringComparer.Ordinal))
            if (!Report(new AggregateReport(reporter, day, domain.Key, domain.ToList()), domain.Key)) failed++;
        return failed == 0 ? 0 : 111;
    }

    private bool Report(AggregateReport report, string domain)
    {
        var file = Path.Combine(reportDirectory, report.FileName);
        if (File.Exists(file))
        {
            output.WriteLine($"{domain}: already reported in {file}");
            return true;
        }
        var gzipped = AggregateReport.Gzip(report.Json());
        var temporary = file + ".tmp";
        File.WriteAllBytes(temporary, gzipped);
        File.Move(temporary, file, overwrite: true);
        var said = $"{domain}: {report.Successes} successful, {report.Failures} failed sessions: {file}";
        if (!mail)
        {
            output.WriteLine(said);
            return true;
        }
        var to = ReportAddresses.Lookup(dns.Client(), domain, out var why);
        if (to == null)
        {
            File.Delete(file);
            output.WriteLine($"{said}; the _smtp._tls record could not be looked up ({why}): removed, for the next run to try again");
            return false;
        }
        if (to.Count == 0)
        {
            output.WriteLine(said + "; no mailto: address published");
            return true;
        }
        var message = ReportMail.Build(reporter, report, domain, to, gzipped, DateTimeOffset.UtcNow);
        if (ReportMail.Inject(home, reporter.Contact, to, message) is { } problem)
        {
            File.Delete(file);
            output.WriteLine($"{said}; not mailed ({problem}): removed, for the next run to try again");
            return false;
        }
        output.WriteLine($"{said}; mailed to {string.Join(", ", to)}");
        return true;
    }
}

/// <summary>The DNS client, made only when a report is to be mailed.</summary>
internal sealed class ReportDns(RemoteSettings settings)
{
    private DnsClient.ILookupClient? _client;
    public DnsClient.ILookupClient Client() => _client ??= MailHosts.Client(settings.DnsServers);
}
