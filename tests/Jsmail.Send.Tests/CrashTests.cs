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
        // A message that ended ("end msg", info/ unlinked) but whose mess file qmail-clean did not remove is
        // left to the 36-hour cleanup (§2.12 state S2): only a message that ended as jsmail-send was killed -9,
        // or one that ended after qmail-clean died (qmail's messdone goes on under exitasap). See EndsLeftToCleanup.
        var leftovers = h.Home.Entries("mess").Select(e => e.Split('/')[1]).ToList();
        var mayBeLeft = EndsLeftToCleanup(h.LogLines);
        leftovers.Where(id => !mayBeLeft.Contains(id)).Should().BeEmpty(
            "a mess file may outlive its message only after a kill -9 between its end and its removal, or after qmail-clean died");
    }

    /// <summary>
    /// jsmail-send's concurrency in the test home (defaults: no control files):
    /// concurrencylocal 10 + concurrencyremote 20, qmail's numjobs.
    /// </summary>
    private const int NumJobs = 10 + 20;

    /// <summary>
    /// The messages whose mess file a run may leave, by how the run ended:
    /// <list type="bullet">
    /// <item>kill -9: the last message it ended, if the kill fell between the
    /// "end msg" line and qmail-clean's answer (ends are one at a time).</item>
    /// <item>stopped after a kill of qmail-clean: every message it ended from the
    /// one whose removal found qmail-clean gone (the line before the first
    /// "lost qmail-clean connection") on. From that moment jsmail-send is
    /// exiting and starts no pass or delivery, so a further message can end
    /// only if it had an open job or was already waiting for its end. Every
    /// message here has a local and a remote recipient: a waiting message
    /// closed two jobs, and a loop turn ends at most one waiting message
    /// while opening at most two jobs, so open jobs + 2 × waiting messages
    /// never exceeds NumJobs; the run ends at most 1 + NumJobs messages after
    /// qmail-clean died, however many results a batch marks done at once.</item>
    /// </list>
    /// </summary>
    private static HashSet<string> EndsLeftToCleanup(string[] log)
    {
        var ids = new HashSet<string>();
        var run = new List<string>();
        foreach (var line in log)
        {
            if (line != KilledMark && line != StoppedMark) { run.Add(line); continue; }
            var ends = run.Select((l, i) => (Line: l, Index: i)).Where(x => x.Line.StartsWith("end msg ")).ToList();
            if (line == KilledMark && ends.Count > 0) ids.Add(ends[^1].Line["end msg ".Length..]);
            var died = run.FindIndex(l => l.StartsWith("alert: oh no! lost qmail-clean connection!"));
            if (line == StoppedMark && died > 0)
            {
                var after = ends.Where(x => x.Index >= died - 1).ToList();
                after.Count.Should().BeLessThanOrEqualTo(1 + NumJobs, "jsmail-send starts nothing once qmail-clean is gone");
                foreach (var (l, _) in after) ids.Add(l["end msg ".Length..]);
            }
            run.Clear();
        }
        return ids;
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
    /// logged result or with its result in the run's last batch of results
    /// (<see cref="LastResultBatch"/>): jsmail-send logs every result it read at
    /// once, with a status line as each slot frees, and only then marks them done.
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
                var lastBatch = LastResultBatch(run);
                for (var i = 0; i < run.Count; i++)
                {
                    var l = run[i];
                    if (Regex.Match(l, @"^starting delivery (\d+): msg \d+ to \w+ (.*)$") is { Success: true } s) started[s.Groups[1].Value] = s.Groups[2].Value;
                    else if (Regex.Match(l, @"^delivery (\d+): ") is { Success: true } d && i < lastBatch) finished.Add(d.Groups[1].Value);
                }
                foreach (var (id, recipient) in started)
                    if (!finished.Contains(id)) counts[recipient] = counts.GetValueOrDefault(recipient) + 1;
            }
            run.Clear();
        }
        return counts;
    }

    /// <summary>
    /// The index of the first line of the run's trailing block of result and
    /// status lines: the results read last, whose done marks the kill may have
    /// come before (run.Count when the run does not end with a result).
    /// </summary>
    private static int LastResultBatch(List<string> run)
    {
        var i = run.Count;
        while (i > 0 && (Regex.IsMatch(run[i - 1], @"^delivery \d+: ") || run[i - 1].StartsWith("status: "))) i--;
        return i;
    }
}
