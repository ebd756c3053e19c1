using Jsmail.Common.Envelope;
using Jsmail.Common.Message;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Local;

/// <summary>
/// Forwarding (interfaces §5.9): one queue run for all collected addresses, the
/// message prefixed by Delivered-To only, the envelope sender NEWSENDER.
/// A forward that needs SMTPUTF8 (a UTF-8 address or header, RFC 6531/6532)
/// is queued marked as jsmail-smtpd marks <c>MAIL ... SMTPUTF8</c>, so remote
/// delivery holds it to a peer that offers SMTPUTF8; qmail-local marks nothing
/// and neither does JSMAIL_COMPAT=qmail.
/// </summary>
public static class Forwarder
{
    /// <returns>the queue program's pid, for the "qp" line</returns>
    public static int Forward(string qmailHome, MessageFile message, DeliveryLines lines, byte[] newSender,
        List<byte[]> recipients)
    {
        using var queue = QueueClient.Open(qmailHome);
        var scan = Control.Compat.IsQmail ? null : new Utf8HeaderScan();
        queue.Write(lines.DtLine);
        scan?.Feed(lines.DtLine);
        if (!message.CopyTo(chunk => { scan?.Feed(chunk); queue.Write(chunk); return true; }, out var errno))
            throw LocalFailure.Temporary($"Unable to read message: {Jsmail.Common.Os.ErrorText.Describe(errno)}. (#4.3.0)");
        var envelope = new QueueEnvelope(newSender, recipients);
        if (scan != null && (scan.IsUtf8Text || Utf8Mail.NeedsSmtpUtf8(newSender, recipients, default)))
            envelope = Utf8Mail.Marked(envelope);
        var result = queue.Close(envelope);
        if (result.Success) return queue.Pid;
        var text = System.Text.Encoding.UTF8.GetString(result.Message);
        throw new LocalFailure(result.Permanent ? 100 : 111, $"Unable to forward message: {text}.");
    }
}
