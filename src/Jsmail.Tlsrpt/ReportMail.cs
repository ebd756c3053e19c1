using System.Diagnostics;
using MimeKit;

namespace Jsmail.Tlsrpt;

/// <summary>
/// A report by mail (RFC 8460 §5.3): multipart/report; report-type="tlsrpt",
/// a short text part and the gzipped JSON as application/tlsrpt+gzip
/// (base64, an attachment named as the report file); TLS-Report-Domain and
/// TLS-Report-Submitter header fields, and the Subject of §5.3's form. It is
/// queued by the home's jsmail-inject, so that the queue delivers it (and
/// DKIM-signs it, where the installation signs its mail: §5.3 asks for it).
/// </summary>
internal static class ReportMail
{
    public static byte[] Build(Reporter reporter, AggregateReport report, string domain, IReadOnlyList<string> to, byte[] gzipped, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(reporter.Contact));
        foreach (var address in to) message.To.Add(MailboxAddress.Parse(address));
        message.Subject = $"Report Domain: {domain} Submitter: {reporter.Submitter} Report-ID: <{report.ReportId}>";
        message.Date = now;
        message.MessageId = report.ReportId;
        message.Headers.Add("TLS-Report-Domain", domain);
        message.Headers.Add("TLS-Report-Submitter", reporter.Submitter);
        message.Headers.Add("Auto-Submitted", "auto-generated"); // RFC 3834: no vacation replies to a report

        var body = new MultipartReport("tlsrpt");
        body.Add(new TextPart("plain")
        {
            Text = $"This is an aggregate TLS report (RFC 8460) from {reporter.Submitter} for {domain}, " +
                $"{report.Start:yyyy-MM-dd} UTC: {report.Successes} successful and {report.Failures} failed sessions.\n",
        });
        body.Add(new MimePart("application", "tlsrpt+gzip")
        {
            Content = new MimeContent(new MemoryStream(gzipped)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) { FileName = report.FileName },
            ContentTransferEncoding = ContentEncoding.Base64,
        });
        message.Body = body;

        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Unix; // qmail's queue holds LF lines
        var buffer = new MemoryStream();
        message.WriteTo(options, buffer);
        return buffer.ToArray();
    }

    /// <summary>
    /// <c>bin/jsmail-inject -a -f sender recipients</c> with the message on its
    /// stdin; null when it was queued, else what went wrong.
    /// </summary>
    public static string? Inject(string home, string sender, IReadOnlyList<string> recipients, byte[] message)
    {
        var start = new ProcessStartInfo(Path.Combine(home, "bin", "jsmail-inject"))
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-a");
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(sender);
        foreach (var r in recipients) start.ArgumentList.Add(r);
        try
        {
            using var inject = Process.Start(start)!;
            var err = inject.StandardError.ReadToEndAsync();
            inject.StandardInput.BaseStream.Write(message);
            inject.StandardInput.Close();
            inject.WaitForExit();
            return inject.ExitCode == 0 ? null : $"jsmail-inject exited {inject.ExitCode}: {err.Result.Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return "cannot run jsmail-inject: " + e.Message;
        }
    }
}
