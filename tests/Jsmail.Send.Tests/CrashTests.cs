using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

public class CrashTests
{
    /// <summary>
    /// kill -9 of jsmail-send, jsmail-todo or jsmail-clean at random moments
    /// while 200 messages flow, then restarts: every recipient is delivered at
    /// least once and the queue ends empty.
    /// </summary>
    [Fact]
    public void Kill9_during_a_flow_loses_no_recipient()
    {
        using var h = new SendHarness();
        const int messages = 200;
        var rng = new Random(5);
        h.Start();
        var victims = new[] { "qmail-send", "qmail-todo", "qmail-clean" };
        for (var i = 0; i < messages; i++)
        {
            h.Queue(SendHarness.Envelope("s@x", $"l{i}@local.example", $"r{i}@remote.example"));
            if (i % 25 == 12)
            {
                var victim = victims[rng.Next(victims.Length)];
                Run.Shell("pkill -9 -x -P \"$1\" \"$2\" || kill -9 \"$1\"", args: [h.SendPid.ToString(), victim]);
                if (victim == "qmail-send") h.Kill9();
                else h.Stop();
                h.Start();
            }
        }
        SendHarness.WaitUntil(() => h.Home.Entries("todo").Count == 0 && h.Home.Entries("info").Count == 0, 120_000)
            .Should().BeTrue("the queue should drain:\n" + string.Join('\n', h.LogLines.TakeLast(20)));
        var delivered = h.Delivered.Select(l => l.Split(' ')[3]).ToHashSet();
        for (var i = 0; i < messages; i++)
        {
            delivered.Should().Contain($"l{i}@local.example");
            delivered.Should().Contain($"r{i}@remote.example");
        }
        h.Home.Entries("mess").Should().BeEmpty();
    }
}
