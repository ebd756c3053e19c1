using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Local;

/// <summary>
/// Forwarding (interfaces §5.9): one queue run for all collected addresses, the
/// message prefixed by Delivered-To only, the envelope sender NEWSENDER.
/// </summary>
public static class Forwarder
{
    /// <returns>the queue program's pid, for the "qp" line</returns>
    public static int Forward(string qmailHome, MessageFile message, DeliveryLines lines, byte[] newSender,
        List<byte[]> recipients)
    {
        using var queue = QueueClient.Open(qmailHome);
        queue.Write(lines.DtLine);
        if (!message.CopyTo(chunk => { queue.Write(chunk); return true; }, out var errno))
            throw LocalFailure.Temporary($"Unable to read message: {Jsmail.Common.Os.ErrorText.Describe(errno)}. (#4.3.0)");
        var result = queue.Close(new QueueEnvelope(newSender, recipients));
        if (result.Success) return queue.Pid;
        var text = System.Text.Encoding.UTF8.GetString(result.Message);
        throw new LocalFailure(result.Permanent ? 100 : 111, $"Unable to forward message: {text}.");
    }
}
