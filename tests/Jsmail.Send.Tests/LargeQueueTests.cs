using System.Text;
using Jsmail.TestQueue;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.Send.Tests;

/// <summary>
/// A backlog in todo/ must not stop deliveries (qmail's "silly qmail
/// syndrome"), and memory must not grow with the queue. The 100,000-message
/// figures are bench/send-large.sh's; this is the CI-sized check.
/// </summary>
public class LargeQueueTests(ITestOutputHelper output)
{
    private const int Messages = 5000;
    private const long RssBoundKb = 32 * 1024; // both peak near 6 MB here with 5,000 queued; the queue must not add to that

    [Fact]
    public void Deliveries_go_on_while_todo_has_a_backlog_and_peak_RSS_stays_bounded()
    {
        using var h = new SendHarness(keepCopies: false);
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20");
        var filler = new QueueFiller(h.Home.Queue(""));
        for (var i = 0; i < Messages; i++)
        {
            filler.Add("Subject: large\n\nbody\n"u8, "s@x"u8, [Encoding.ASCII.GetBytes($"l{i}@local.example")]);
            if (i % 500 == 0) filler.PullTrigger();
        }
        filler.PullTrigger();

        (int Backlog, int Delivered) overlap = (0, 0);
        SendHarness.WaitUntil(() =>
        {
            var backlog = h.Home.Entries("todo").Count;
            var delivered = h.Delivered.Length;
            if (backlog >= Messages / 5 && delivered >= 50) overlap = (backlog, delivered);
            return overlap.Delivered > 0 || backlog == 0;
        }, 120_000);
        overlap.Delivered.Should().BeGreaterThan(0, "deliveries must happen while jsmail-todo still has a fifth of the messages to do");
        output.WriteLine($"{overlap.Delivered} delivered while {overlap.Backlog} waited in todo/");

        SendHarness.WaitUntil(() => h.Delivered.Length >= Messages && h.Home.Entries("info").Count == 0, 300_000)
            .Should().BeTrue($"all {Messages} messages should be delivered: {h.Delivered.Length} were");
        var todoPid = int.Parse(Run.Shell("pgrep -x -P \"$1\" qmail-todo", args: [h.SendPid.ToString()]).Out.Trim());
        foreach (var (name, pid) in new[] { ("jsmail-send", h.SendPid), ("jsmail-todo", todoPid) })
        {
            var peak = PeakRssKb(pid);
            output.WriteLine($"{name} peak RSS {peak} kB");
            peak.Should().BeLessThan(RssBoundKb, $"{name}'s peak RSS");
        }
    }

    /// <summary>VmHWM of /proc/pid/status, in kB.</summary>
    public static long PeakRssKb(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}
