using System.Text;
using Jsmail.Common.Message;
using MimeKit;

namespace Jsmail.Send.Send.Dsn;

/// <summary>One recipient in a report: RFC 3464 §2.3's fields.</summary>
public sealed record ReportedRecipient(
    string FinalRecipient, string? OriginalRecipient, string Action, string Status, string? RemoteMta, string Diagnostic, string Text);

/// <summary>Everything a delivery status notification is made of.</summary>
public sealed record DeliveryReportInput(
    long Now,
    string From,
    string To,
    string ReportingMta,
    string? EnvelopeId,
    long ArrivalDate,
    bool HeadersOnly,
    bool Success,
    ulong MessageId,
    IReadOnlyList<ReportedRecipient> Recipients,
    byte[] Message);

/// <summary>
/// Builds an RFC 3464 delivery status notification: a <c>multipart/report;
/// report-type=delivery-status</c> (RFC 6522) of a human-readable text, the
/// <c>message/delivery-status</c> fields and the returned message (RET=FULL:
/// <c>message/rfc822</c>) or its headers (RET=HDRS, and every success report:
/// <c>text/rfc822-headers</c>). Pure: bytes in, bytes out, LF line ends as
/// the queue keeps them.
/// </summary>
public static class DeliveryReport
{
    public static byte[] Build(DeliveryReportInput r)
    {
        var message = new MimeMessage();
        message.Headers.Clear(); // no Date or Message-Id of MimeKit's own: the queue adds Received, qmail-style
        message.Headers.Add(HeaderId.Date, Encoding.ASCII.GetString(Rfc822Date.Format(r.Now)));
        message.Headers.Add(HeaderId.From, $"Mail Delivery System <{r.From}>");
        message.Headers.Add(HeaderId.To, $"<{r.To}>");
        message.Headers.Add(HeaderId.Subject, r.Success ? "Successful Mail Delivery Report" : "Undelivered Mail Returned to Sender");
        message.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834: no automatic answer to this
        message.Headers.Add(HeaderId.MimeVersion, "1.0");

        var report = new MultipartReport("delivery-status")
        {
            Boundary = $"{r.MessageId}.{r.Now}/{r.ReportingMta}",
        };
        report.Add(new TextPart("plain") { Text = HumanText(r), ContentTransferEncoding = ContentEncoding.EightBit });
        report.Add(Status(r));
        report.Add(Returned(r));
        message.Body = report;

        using var o = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Unix }, o);
        return o.ToArray();
    }

    private static string HumanText(DeliveryReportInput r)
    {
        var t = new StringBuilder();
        t.Append($"Hi. This is the qmail-send program at {r.ReportingMta}.\n");
        t.Append(r.Success
            ? "Your message was delivered to the following addresses, as you asked to be told.\n\n"
            : "I'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n");
        foreach (var x in r.Recipients)
        {
            t.Append('<').Append(x.FinalRecipient).Append(">:\n").Append(x.Text);
            if (x.Text.Length > 0 && x.Text[^1] != '\n') t.Append('\n');
            t.Append('\n');
        }
        return t.ToString();
    }

    private static MessageDeliveryStatus Status(DeliveryReportInput r)
    {
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList();
        perMessage.Add("Reporting-MTA", "dns; " + r.ReportingMta);
        if (r.EnvelopeId != null) perMessage.Add("Original-Envelope-Id", r.EnvelopeId);
        perMessage.Add("Arrival-Date", Encoding.ASCII.GetString(Rfc822Date.Format(r.ArrivalDate)));
        status.StatusGroups.Add(perMessage);
        foreach (var x in r.Recipients)
        {
            var fields = new HeaderList();
            if (x.OriginalRecipient != null) fields.Add("Original-Recipient", x.OriginalRecipient);
            fields.Add("Final-Recipient", "rfc822; " + x.FinalRecipient);
            fields.Add("Action", x.Action);
            fields.Add("Status", x.Status);
            if (x.RemoteMta != null) fields.Add("Remote-MTA", x.RemoteMta);
            fields.Add("Diagnostic-Code", x.Diagnostic);
            status.StatusGroups.Add(fields);
        }
        return status;
    }

    private static MimeEntity Returned(DeliveryReportInput r)
    {
        var headersOnly = r.HeadersOnly || r.Success;
        var bytes = headersOnly ? Headers(r.Message) : r.Message;
        using var input = new MemoryStream(bytes, false);
        var original = MimeMessage.Load(input);
        return headersOnly
            ? new TextRfc822Headers { Message = original }
            : new MessagePart("rfc822") { Message = original };
    }

    /// <summary>The message's header section, up to and including the empty line that ends it.</summary>
    public static byte[] Headers(byte[] message)
    {
        if (message.Length > 0 && message[0] == '\n') return "\n"u8.ToArray();
        var end = message.AsSpan().IndexOf("\n\n"u8);
        return end < 0 ? [.. message, (byte)'\n'] : message[..(end + 2)];
    }
}
