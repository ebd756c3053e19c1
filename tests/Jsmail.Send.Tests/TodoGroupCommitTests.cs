using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestQueue;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// jsmail-todo's group commit through the real jsmail-start tree (test
/// spawners): what a batch costs in syncs, and that kill -9 of jsmail-todo
/// in the middle of bursts from jsmail-queue loses nothing.
/// </summary>
public class TodoGroupCommitTests
{
    private const int Messages = 20;

    /// <summary>
    /// Twenty messages waiting in todo/ when jsmail-todo starts are one scan,
    /// hence one batch: one syncfs for all their info/ and local/ files and no
    /// fsync. With JSMAIL_COMPAT=qmail, qmail's two fsyncs a message (info,
    /// local) and no syncfs. jsmail-send and the test spawners sync nothing,
    /// so strace's counts over the whole tree are jsmail-todo's.
    /// </summary>
    [Theory]
    [InlineData(false, 0, 1)]
    [InlineData(true, 2 * Messages, 0)]
    public void A_backlog_found_at_start_is_made_durable_by_one_sync(bool qmailMode, int fsyncs, int syncfs)
    {
        using var h = new SendHarness(keepCopies: false);
        using var dir = new TempDir("jsmail-todo-strace");
        var counts = Path.Combine(dir.Path, "strace");
        if (qmailMode) h.Environment["JSMAIL_COMPAT"] = "qmail";
        var filler = new QueueFiller(h.Home.Queue(""));
        for (var i = 0; i < Messages; i++) filler.Add("Subject: batch\n\nbody\n"u8, "s@x"u8, [B($"l{i}@local.example")]);
        h.Tracer = ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,syncfs", "-o", counts];

        h.Start();
        h.WaitForLog("end msg", Messages, 60_000);
        h.Stop();

        h.Delivered.Should().HaveCount(Messages);
        var calls = SyncCalls(File.ReadAllText(counts));
        calls.GetValueOrDefault("fsync").Should().Be(fsyncs, File.ReadAllText(counts));
        calls.GetValueOrDefault("syncfs").Should().Be(syncfs, File.ReadAllText(counts));
        calls.GetValueOrDefault("fdatasync").Should().Be(0);
    }

    /// <summary>
    /// Bursts of messages from concurrent jsmail-queue runs while jsmail-send
    /// runs; in all but the last, jsmail-todo is killed -9 at a random moment
    /// (jsmail-send then gives up, and is restarted as supervise would). Every
    /// recipient is delivered exactly once: a message whose files were not
    /// durable yet stayed in todo/ and is redone, one whose todo link was gone
    /// but not announced is found in info/ by the restarted jsmail-send.
    /// </summary>
    [Fact]
    public void Kill9_of_jsmail_todo_during_bursts_from_jsmail_queue_loses_nothing()
    {
        const int bursts = 5, perBurst = 30;
        using var h = new SendHarness(keepCopies: false);
        var message = Path.Combine(h.Home.Path, "burst.msg");
        File.WriteAllText(message, "Subject: burst\n\nbody\n");
        var rng = new Random(16);
        h.Start();
        for (var b = 0; b < bursts; b++)
        {
            for (var i = 0; i < perBurst; i++)
                File.WriteAllBytes(Path.Combine(h.Home.Path, $"burst{i}.env"), SendHarness.Envelope("s@x", $"b{b}m{i}@local.example"));
            // every message of the burst queued at once, each by its own jsmail-queue
            using var burst = Run.Start("/bin/bash", ["-c",
                "cd \"$1\" && for ((i = 0; i < $2; i++)); do bin/qmail-queue <burst.msg 1<burst$i.env & done; wait",
                "bash", h.Home.Path, perBurst.ToString()]);
            if (b < bursts - 1)
            {
                Thread.Sleep(rng.Next(0, 300));
                Run.Shell("pkill -9 -x -P \"$1\" qmail-todo", args: [h.SendPid.ToString()]);
            }
            burst.WaitForExit(120_000).Should().BeTrue("the burst's jsmail-queue runs should end");
            if (b < bursts - 1)
            {
                h.Stop(); // jsmail-send exits by itself once it has lost jsmail-todo; TERM if it has not yet
                h.Start();
            }
        }

        SendHarness.WaitUntil(() => new[] { "todo", "info", "local", "remote" }.All(d => h.Home.Entries(d).Count == 0), 120_000)
            .Should().BeTrue("the queue should drain:\n" + string.Join('\n', h.LogLines.TakeLast(20)));
        var delivered = h.Delivered.Select(l => l.Split(' ')[3]).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        for (var b = 0; b < bursts; b++)
            for (var i = 0; i < perBurst; i++)
                delivered.GetValueOrDefault($"b{b}m{i}@local.example").Should().Be(1, $"b{b}m{i} must be delivered once");
        delivered.Should().HaveCount(bursts * perBurst);
    }

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>The calls column of strace -c's table, by syscall.</summary>
    private static Dictionary<string, int> SyncCalls(string table) =>
        Regex.Matches(table, @"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[2].Value, m => int.Parse(m.Groups[1].Value));
}
