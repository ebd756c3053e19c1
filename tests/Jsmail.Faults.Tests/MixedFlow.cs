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

    /// <summary>Each refused attempt's reply to the end of DATA, in order; "(none)" when the dialogue did not get that far.</summary>
    public List<string> Refusals
    {
        get { lock (_refusals) return [.. _refusals]; }
    }

    private readonly List<string> _refusals = [];
    private int _refused;
    private int _next = -1;

    // The gate a fault closes to act between attempts (PauseFrom, Pause, Resume): an attempt waits while
    // _paused or its message is at or past _pauseFrom. It counts in _inFlight from before it looks at the
    // gate, so Pause sees every attempt that got past it.
    private int _paused; // 1: paused; set with Interlocked (a full fence) against the attempts' Interlocked count
    private int _pauseFrom = int.MaxValue;
    private int _inFlight;

    /// <summary>Holds the messages from index <paramref name="message"/> on at the gate until <see cref="Resume"/>.</summary>
    public void PauseFrom(int message) => Volatile.Write(ref _pauseFrom, message);

    /// <summary>
    /// Stops the flow between attempts: no attempt starts until <see cref="Resume"/>,
    /// and this returns once every attempt already started has its answer (bounded),
    /// so a fault made now meets only attempts started after it.
    /// </summary>
    public void Pause()
    {
        Interlocked.Exchange(ref _paused, 1);
        Wait.Until(() => Volatile.Read(ref _inFlight) == 0, 120).Should().BeTrue("the flow's attempts in progress end");
    }

    public void Resume()
    {
        Volatile.Write(ref _pauseFrom, int.MaxValue);
        Interlocked.Exchange(ref _paused, 0);
    }

    /// <summary>Waits at the gate (bounded: 10 minutes), then counts an attempt at <paramref name="message"/> in flight; <see cref="EndAttempt"/> ends it.</summary>
    private void BeginAttempt(int message)
    {
        for (var waits = 0; ; waits++)
        {
            Interlocked.Increment(ref _inFlight);
            if ((Volatile.Read(ref _paused) == 0 && message < Volatile.Read(ref _pauseFrom)) || waits >= 6000) return;
            Interlocked.Decrement(ref _inFlight);
            Thread.Sleep(100);
        }
    }

    private void EndAttempt() => Interlocked.Decrement(ref _inFlight);

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
                    BeginAttempt(i);
                    try
                    {
                        var reply = SmtpSubmitter.DataReply(port(), $"{Sender}@{FaultMta.LocalDomain}", Recipients(i), Message(Token(i, attempt)));
                        if (reply?.StartsWith("250") == true)
                        {
                            Accepted[i] = attempt;
                            break;
                        }
                        lock (_refusals) _refusals.Add(reply ?? "(none)");
                        Interlocked.Increment(ref _refused);
                    }
                    finally { EndAttempt(); }
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
