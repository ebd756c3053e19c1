using System.Text;
using Jsmail.Common.Message;
using MimeKit;

namespace Jsmail.Send.Send.Dsn;

/// <summary>One recipient in a report: RFC 3464 §2.3's fields.</summary>
public sealed record ReportedRecipient(
    string FinalRecipient, string? OriginalRecipient, string Action, string Status, string? RemoteMta, string Diagnostic, string Text);

/// <summary>What a report tells: failures (qmail's bounce moment), successes (delivered or relayed), or a delay warning.</summary>
public enum ReportKind { Failure, Success, Delay }

/// <summary>Everything a delivery status notification is made of.</summary>
/// <param name="WillRetryUntil">a delay warning's Will-Retry-Until (arrival + queuelifetime)</param>
/// <param name="MaxReturnedBytes">control/bouncemaxbytes: a failure report returns a bigger message's headers only (0: no limit)</param>
/// <param name="RequireTls">the message came with REQUIRETLS: its header section only, and the text says why (RFC 8689 §5)</param>
public sealed record DeliveryReportInput(
    long Now,
    string From,
    string To,
    string ReportingMta,
    string? EnvelopeId,
    long ArrivalDate,
    bool HeadersOnly,
    ReportKind Kind,
    ulong MessageId,
    IReadOnlyList<ReportedRecipient> Recipients,
    byte[] Message,
    long? WillRetryUntil = null,
    int MaxReturnedBytes = 0,
    bool RequireTls = false)
{
    /// <summary>RET=FULL (or no RET) asked for the whole message, which is over the limit: its headers go back instead.</summary>
    public bool Truncated => Kind == ReportKind.Failure && !HeadersOnly && !RequireTls && MaxReturnedBytes > 0 && Message.Length > MaxReturnedBytes;

    /// <summary>Only a failure report returns the whole message; success and delay reports never do (RFC 3461 §4.3).</summary>
    public bool ReturnsHeaders => HeadersOnly || RequireTls || Kind != ReportKind.Failure || Truncated;
}

/// <summary>
/// Builds an RFC 3464 delivery status notification: a <c>multipart/report;
/// report-type=delivery-status</c> (RFC 6522) of a human-readable text, the
/// <c>message/delivery-status</c> fields and the returned message (RET=FULL:
/// <c>message/rfc822</c>) or its headers (RET=HDRS, a message over
/// control/bouncemaxbytes, and every success and delay report:
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
        message.Headers.Add(HeaderId.Subject, r.Kind switch
        {
            ReportKind.Success => "Successful Mail Delivery Report",
            ReportKind.Delay => "Delayed Mail (still being retried)",
            _ => "Undelivered Mail Returned to Sender",
        });
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
        t.Append(r.Kind switch
        {
            ReportKind.Success when r.Recipients.Any(x => x.Action == "relayed") =>
                "Your message was delivered to the following addresses, as you asked to be told.\n" +
                "Where it says \"Relayed\", it went on to a host that does not report delivery: no further report will come.\n\n",
            ReportKind.Success => "Your message was delivered to the following addresses, as you asked to be told.\n\n",
            ReportKind.Delay =>
                "This is a warning: your message has not been delivered yet to the following addresses.\n" +
                $"I'm still trying; you need not send it again. I will give up on {Date(r.WillRetryUntil ?? r.Now)}.\n\n",
            _ => "I'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n",
        });
        foreach (var x in r.Recipients)
        {
            t.Append('<').Append(x.FinalRecipient).Append(">:\n").Append(x.Text);
            if (x.Text.Length > 0 && x.Text[^1] != '\n') t.Append('\n');
            t.Append('\n');
        }
        if (r.Truncated)
            t.Append($"Your message is larger than {r.MaxReturnedBytes} bytes: only its header section is returned below.\n");
        if (r.RequireTls && r.Kind == ReportKind.Failure)
            t.Append(RequireTlsNote);
        return t.ToString();
    }

    private static MessageDeliveryStatus Status(DeliveryReportInput r)
    {
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList();
        perMessage.Add("Reporting-MTA", "dns; " + r.ReportingMta);
        if (r.EnvelopeId != null) perMessage.Add("Original-Envelope-Id", r.EnvelopeId);
        perMessage.Add("Arrival-Date", Date(r.ArrivalDate));
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
            if (r.WillRetryUntil is { } until && x.Action == "delayed") fields.Add("Will-Retry-Until", Date(until));
            status.StatusGroups.Add(fields);
        }
        return status;
    }

    private static MimeEntity Returned(DeliveryReportInput r)
    {
        var headersOnly = r.ReturnsHeaders;
        var bytes = headersOnly ? Headers(r.Message) : r.Message;
        using var input = new MemoryStream(bytes, false);
        var original = MimeMessage.Load(input);
        return headersOnly
            ? new TextRfc822Headers { Message = original }
            : new MessagePart("rfc822") { Message = original };
    }

    /// <summary>Why a REQUIRETLS message's failure report returns its header section only (RFC 8689 §5).</summary>
    public const string RequireTlsNote = "Your message required TLS (REQUIRETLS): only its header section is returned below.\n";

    private static string Date(long t) => Encoding.ASCII.GetString(Rfc822Date.Format(t));

    /// <summary>The message's header section, up to and including the empty line that ends it.</summary>
    public static byte[] Headers(byte[] message)
    {
        if (message.Length > 0 && message[0] == '\n') return "\n"u8.ToArray();
        var end = message.AsSpan().IndexOf("\n\n"u8);
        return end < 0 ? [.. message, (byte)'\n'] : message[..(end + 2)];
    }
}
