using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestQueue;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

public class CrashTests
{
    private const string KilledMark = "=== test: jsmail-send killed -9", StoppedMark = "=== test: jsmail-send stopped";

    /// <summary>
    /// kill -9 of jsmail-send, jsmail-todo or jsmail-clean at random moments
    /// while 1,000 messages flow (queued in random batches by the commit
    /// protocol, <see cref="QueueFiller"/>), each followed by a restart: every
    /// recipient is delivered, the queue ends empty, and a recipient is
    /// delivered twice only for a delivery in flight when jsmail-send was killed.
    /// </summary>
    [Fact]
    public void Kill9_during_a_1000_message_flow_loses_nothing_and_repeats_only_deliveries_in_flight()
    {
        using var h = new SendHarness(keepCopies: false);
        const int messages = 1000;
        var rng = new Random(5);
        var filler = new QueueFiller(h.Home.Queue(""));
        h.Start();
        var queued = 0;
        var kills = 0;
        while (queued < messages || kills < 12)
        {
            for (var n = rng.Next(1, 80); n > 0 && queued < messages; n--, queued++)
                filler.Add("Subject: crash\n\nbody\n"u8, "s@x"u8, [B($"l{queued}@local.example"), B($"r{queued}@remote.example")]);
            filler.PullTrigger();
            Thread.Sleep(rng.Next(0, 200));
            if (rng.Next(3) != 0) continue;
            KillAndRestart(h, rng.Next(3));
            kills++;
        }
        SendHarness.WaitUntil(() => Drained(h), 180_000)
            .Should().BeTrue("the queue should drain:\n" + string.Join('\n', h.LogLines.TakeLast(20)));

        var delivered = h.Delivered.Select(l => l.Split(' ')[3]).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        var inFlight = DeliveriesInFlightAtKill9(h.LogLines);
        for (var i = 0; i < messages; i++)
            foreach (var r in new[] { $"l{i}@local.example", $"r{i}@remote.example" })
            {
                delivered.GetValueOrDefault(r).Should().BeGreaterThan(0, r + " must be delivered");
                (delivered[r] - 1).Should().BeLessThanOrEqualTo(inFlight.GetValueOrDefault(r),
                    r + " may be delivered again only after a kill -9 caught a delivery of it in flight");
            }
        foreach (var dir in new[] { "intd", "bounce" }) h.Home.Entries(dir).Should().BeEmpty(dir);
        // a kill of jsmail-send or jsmail-clean between "end msg" and the removal leaves the mess file to the
        // 36-hour cleanup (§2.12 state S2): at most one per kill, and only of a message that ended
        var leftovers = h.Home.Entries("mess").Select(e => e.Split('/')[1]).ToList();
        leftovers.Where(id => !h.LogLines.Contains($"end msg {id}")).Should().BeEmpty("only a message that ended may leave its mess file");
        leftovers.Count.Should().BeLessThanOrEqualTo(h.LogLines.Count(l => l is KilledMark or StoppedMark));
    }

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static bool Drained(SendHarness h) =>
        new[] { "todo", "info", "local", "remote" }.All(d => h.Home.Entries(d).Count == 0);

    private static void KillAndRestart(SendHarness h, int victim)
    {
        if (victim == 0)
        {
            h.Kill9();
            h.MarkLog(KilledMark);
        }
        else
        {
            // both jsmail-clean are jsmail-send's children, as jsmail-todo is; jsmail-send then exits by itself or on TERM
            Run.Shell("pkill -9 -x -P \"$1\" \"$2\"", args: [h.SendPid.ToString(), victim == 1 ? "qmail-todo" : "qmail-clean"]);
            h.Stop();
            h.MarkLog(StoppedMark);
        }
        h.Start();
    }

    /// <summary>
    /// Per recipient, the deliveries a kill -9 of jsmail-send may have caught
    /// in flight: started in a run that ended in kill -9, and either without a
    /// logged result or with its result as that run's last line (jsmail-send
    /// logs the result, then marks the record done, then logs the status line).
    /// </summary>
    private static Dictionary<string, int> DeliveriesInFlightAtKill9(string[] log)
    {
        var counts = new Dictionary<string, int>();
        var run = new List<string>();
        foreach (var line in log)
        {
            if (line != KilledMark && line != StoppedMark) { run.Add(line); continue; }
            if (line == KilledMark)
            {
                var started = new Dictionary<string, string>();
                var finished = new HashSet<string>();
                foreach (var l in run)
                {
                    if (Regex.Match(l, @"^starting delivery (\d+): msg \d+ to \w+ (.*)$") is { Success: true } s) started[s.Groups[1].Value] = s.Groups[2].Value;
                    else if (Regex.Match(l, @"^delivery (\d+): ") is { Success: true } d && l != run[^1]) finished.Add(d.Groups[1].Value);
                }
                foreach (var (id, recipient) in started)
                    if (!finished.Contains(id)) counts[recipient] = counts.GetValueOrDefault(recipient) + 1;
            }
            run.Clear();
        }
        return counts;
    }
}
