using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestQueue;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.Send.Tests;

/// <summary>
/// Issue 16's session reuse through the whole delivery side: jsmail-start,
/// -send, -todo and jsmail-rspawn's pooled sessions (control/remotepool's
/// default) delivering a queue of messages to Postfix's smtp-sink, which
/// counts the SMTP sessions and transactions it sees.
/// </summary>
public sealed class PooledSessionFlowTests(ITestOutputHelper output)
{
    private const int Messages = 2000;

    [Fact]
    public void Two_thousand_messages_to_one_destination_take_few_sessions_and_each_reaches_the_peer_once()
    {
        using var h = new SendHarness(testSpawners: false, keepCopies: false);
        using var sink = new SmtpSink(counting: true);
        h.Home.WriteControl("smtproutes", $"sink.test:127.0.0.1:{sink.Port}\n");
        h.Home.WriteControl("concurrencyremote", "20\n");
        var filler = new QueueFiller(h.Home.Queue(""));
        for (var i = 0; i < Messages; i++)
            filler.Add(Encoding.ASCII.GetBytes($"Subject: m{i}\n\nbody of message {i}\n"), "s@x"u8, ["b@sink.test"u8.ToArray()]);

        h.Start();
        h.WaitForLog("end msg", Messages, 600_000);
        h.Stop(); // the pool closes its sessions: smtp-sink counts a session when it ends
        SendHarness.WaitUntil(() => sink.Counts.Sessions > 0 && Stable(sink), 20_000);

        var (sessions, transactions) = sink.Counts;
        output.WriteLine($"{Messages} messages to one destination: {sessions} SMTP sessions, {transactions} transactions (concurrency 20)");
        h.CountLog(": success: ").Should().Be(Messages);
        transactions.Should().Be(Messages, "each message is sent once");
        var subjects = Regex.Matches(sink.Dump, @"^Subject: (m\d+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        subjects.Should().HaveCount(Messages).And.OnlyHaveUniqueItems();
        // control/remotesessions (default 20) bounds the sessions open at once, but one idle for control/remoteidle
        // (2 s, as Postfix's smtp_connection_cache_time_limit) is closed, and a busy test machine makes such pauses:
        // 71 in all in a loaded run here. One a message is what the per-process mode (and qmail) make.
        sessions.Should().BeInRange(1, Messages / 10, "sessions are reused across messages, at least ten each on the average");
        h.ShouldEmpty("mess", "info", "remote", "todo", "intd");
    }

    private static bool Stable(SmtpSink sink)
    {
        var before = sink.Counts;
        Thread.Sleep(500);
        return sink.Counts == before;
    }
}
