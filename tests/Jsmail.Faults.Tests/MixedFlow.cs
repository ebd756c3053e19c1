using System.Collections.Concurrent;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Faults.Tests;

/// <summary>What a message of the flow is for, and so where it must end up.</summary>
public enum Kind
{
    Local,          // alice@e2e.test: her Maildir
    Remote,         // sink@remote.test: the peer
    Both,           // both of the above
    UnknownLocal,   // no such mailbox: a bounce to the sender
    RefusedRemote,  // the peer's 550: a bounce to the sender
}

/// <summary>
/// The mixed flow: <see cref="Count"/> messages through SMTP, a few sessions at
/// once, each message one of the <see cref="Kind"/>s in turn. A message is
/// tried until it gets its 250 (bounded); each attempt carries its own token
/// (flow-run-message-attempt) in its subject and body and ends with an END
/// line, so every copy found anywhere is traced to one attempt and a cut copy
/// shows. The sender is sender@e2e.test, whose Maildir receives the bounces.
/// </summary>
public sealed class MixedFlow(int count, int sessions = 8)
{
    public const string Sender = "sender";
    public const string Alice = "alice";
    public const int Attempts = 200;

    public int Count => count;
    public string Run { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>The attempt of each message that got its 250.</summary>
    public ConcurrentDictionary<int, int> Accepted { get; } = new();

    /// <summary>When each message's first attempt began.</summary>
    public ConcurrentDictionary<int, DateTime> Started { get; } = new();

    /// <summary>Attempts that ended without a 250 (a refusal, or the connection cut).</summary>
    public int Refused => _refused;

    private int _refused;
    private int _next = -1;

    /// <summary>The message sent after the fault is over (index Count): it goes to both, to show the site recovered.</summary>
    public Kind KindOf(int message) => message == count ? Kind.Both : (Kind)(message % 5);

    public string Token(int message, int attempt) => $"flow-{Run}-{message}-{attempt}";

    public IReadOnlyList<string> Recipients(int message) => KindOf(message) switch
    {
        Kind.Local => [$"{Alice}@{FaultMta.LocalDomain}"],
        Kind.Remote => [$"sink@{FaultMta.RemoteDomain}"],
        Kind.Both => [$"{Alice}@{FaultMta.LocalDomain}", $"sink@{FaultMta.RemoteDomain}"],
        Kind.UnknownLocal => [$"nosuch{message}@{FaultMta.LocalDomain}"],
        _ => [$"reject{message}@{FaultMta.RemoteDomain}"],
    };

    /// <summary>Sends every message (bounded: each at most <see cref="Attempts"/> tries); <paramref name="port"/> may change between tries.</summary>
    public Task SendAll(Func<int> port) =>
        Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => Task.Factory.StartNew(() =>
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < count)
            {
                Started[i] = DateTime.UtcNow;
                for (var attempt = 0; attempt < Attempts; attempt++)
                {
                    var reply = SmtpSubmitter.DataReply(port(), $"{Sender}@{FaultMta.LocalDomain}", Recipients(i), Message(Token(i, attempt)));
                    if (reply?.StartsWith("250") == true)
                    {
                        Accepted[i] = attempt;
                        break;
                    }
                    Interlocked.Increment(ref _refused);
                    Thread.Sleep(100);
                }
            }
        }, TaskCreationOptions.LongRunning)));

    /// <summary>The probe: message Count, sent once the fault is over, tried until it gets its 250 (bounded).</summary>
    public void SendProbe(int port)
    {
        Started.TryAdd(count, DateTime.UtcNow);
        for (var attempt = 0; attempt < Attempts && !Accepted.ContainsKey(count); attempt++)
        {
            if (SmtpSubmitter.DataReply(port, $"{Sender}@{FaultMta.LocalDomain}", Recipients(count), Message(Token(count, attempt)))
                    ?.StartsWith("250") == true)
                Accepted[count] = attempt;
            else
                Thread.Sleep(200);
        }
    }

    private static readonly string Padding = new('x', 72);

    private static string Message(string token)
    {
        var m = new StringBuilder($"Subject: {token}\nMessage-ID: <{token}@faults.example>\n\n{token}\n");
        while (m.Length < 1500) m.Append(Padding).Append('\n');
        return m.Append("END-").Append(token).Append('\n').ToString();
    }
}
