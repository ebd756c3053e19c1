using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;

namespace Jsmail.Smtpd;

/// <summary>Where an accepted message goes: the queue program, or whatever a test or server mode puts there.</summary>
public interface IMessageQueue
{
    int Pid { get; }
    void Write(ReadOnlySpan<byte> data);
    QueueResult Close(QueueEnvelope envelope);
    /// <summary>Nothing is queued; the queue program, if any, is waited for.</summary>
    void Abort();
}

public sealed class QmailQueue(QueueClient client) : IMessageQueue
{
    public int Pid => client.Pid;
    public void Write(ReadOnlySpan<byte> data) => client.Write(data);

    public QueueResult Close(QueueEnvelope envelope)
    {
        try { return client.Close(envelope); }
        finally { client.Dispose(); }
    }

    public void Abort()
    {
        client.Abort();
        client.Dispose();
    }
}
