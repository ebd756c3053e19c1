using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Smtp.Session;

/// <summary>A sink a blocking driver commits itself, waiting for the result.</summary>
public interface IBlockingMessageSink : IMessageSink
{
    QueueResult Commit(QueueEnvelope envelope);
}

/// <summary>A message for the queue program ($QMAILQUEUE or bin/qmail-queue), one child per message as qmail does.</summary>
public sealed class QueueSink(QueueClient client) : IBlockingMessageSink
{
    public int Pid => client.Pid;
    public void Write(ReadOnlySpan<byte> data) => client.Write(data);

    /// <summary>Sends the envelope and waits for the queue program's verdict.</summary>
    public QueueResult Commit(QueueEnvelope envelope)
    {
        try { return client.Close(envelope); }
        finally { client.Dispose(); }
    }

    public void Abort()
    {
        client.Abort();
        client.Dispose();
    }

    /// <summary>The factory a per-connection session is given: null (a "qqt failure") when the child cannot be set up.</summary>
    public static IMessageSink? Open(string home)
    {
        try { return new QueueSink(QueueClient.Open(home)); }
        catch (OutOfMemoryException) { return null; }
    }
}
