namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Where the bytes of an accepted message go as they arrive (the Received line,
/// then the decoded data): the queue program's fd 0 per connection, whatever
/// server mode hands messages to. A session gets one per DATA from the factory
/// it was built with; the commit is the driver's (<see cref="CommitMessageEffect"/>).
/// </summary>
public interface IMessageSink
{
    /// <summary>The number after "qp" in the 250 reply (qmail: the queue program's pid).</summary>
    int Pid { get; }

    void Write(ReadOnlySpan<byte> data);

    /// <summary>Nothing is queued: the client went away or the message was refused.</summary>
    void Abort();
}
