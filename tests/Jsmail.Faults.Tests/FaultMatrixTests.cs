using System.Text;
using System.Diagnostics;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using Xunit.Abstractions;

// Whole MTAs under svscan: one test at a time keeps the 2 cores for it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Jsmail.Faults.Tests;

/// <summary>
/// The fault matrix (issue 22 §3): a mixed flow of JSMAIL_FAULT_MESSAGES
/// messages (default 150; scripts/fault-matrix.sh runs 5,000) into a
/// server-mode site under svscan, local and remote, some bouncing, with one
/// fault in each test. After each: every message that got its 250 delivered
/// or bounced as its kind says, nothing lost, no cut file in a Maildir, a
/// second copy only where qmail allows one, the queue consistent and empty
/// after the drain, and every daemon back without an operator. Each test
/// prints its counts (and appends them to JSMAIL_FAULT_REPORT when set).
/// </summary>
public sealed class FaultMatrixTests(ITestOutputHelper output) : IDisposable
{
    private readonly FaultPeer _peer = new();
    private FaultMta? _mta;

    private static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("JSMAIL_FAULT_MESSAGES"), out var n) && n > 0 ? n : 150;

    [Theory]
    [InlineData("jsmail-send")]
    [InlineData("jsmail-rspawn")]
    [InlineData("jsmail-lspawn")]
    [InlineData("jsmail-todo")]
    [InlineData("jsmail-queued")]
    [InlineData("jsmail-smtpd-server")]
    [InlineData("jsmail-send jsmail-rspawn jsmail-lspawn")] // issue 16's must-show: any of the three, in one flow
    public async Task Kill_9_at_random_times(string daemons)
    {
        var mta = Start();
        var flow = new MixedFlow(Count);
        var kills = new List<DateTime>();
        await During(flow, mta, async done =>
        {
            // until the flow is sent, and at least MinKills: each kill waits for the site to be back, so later ones hit deliveries too
            var random = new Random();
            while (!done.IsCancellationRequested || kills.Count < MinKills)
            {
                await Task.Delay(random.Next(200, 2000));
                var pids = daemons.Split(' ').SelectMany(mta.Pids).ToList();
                if (pids.Count > 0 && Libc.Kill(pids[random.Next(pids.Count)], Libc.SIGKILL) == 0)
                {
                    lock (kills) kills.Add(DateTime.UtcNow);
                    await Task.Delay(200); // the killed one gone from /proc
                    Wait.Until(mta.Ready, 120).Should().BeTrue($"the site is back after kill {kills.Count} of {daemons}: " + mta.Svstat());
                }
            }
        });
        Finish(flow, mta, $"kill -9 of {daemons} ({kills.Count} kills)", kills);
    }

    /// <summary>
    /// The flow waits at its first third until that third has left the queue
    /// (delivered or bounced: from then on nothing in the queue is removed, so
    /// nothing frees space), then the queue's filesystem fills. Every attempt
    /// made while it is full starts after it is full and (the flow paused again)
    /// ends before space is freed: each must get a 451 at the end of DATA and
    /// never be delivered; then the rest of the flow gets in.
    /// </summary>
    [Fact]
    public async Task Queue_filesystem_full_during_accept()
    {
        var mta = Start(queueMegabytes: QueueMegabytes);
        var flow = new MixedFlow(Count);
        flow.PauseFrom(Count / 3);
        List<string> refusedWhileFull = [];
        var acceptedWhileFull = -1;
        await During(flow, mta, async _ =>
        {
            try
            {
                await WhenAccepted(flow, Count / 3);
                flow.Pause();
                // jsmail-send freeing a delivered message's space would let the next message in: a queue that frees nothing
                Wait.Until(() => QueueState.Read(mta.Home).Idle, 300).Should().BeTrue("the first third leaves the queue");
                var (accepted, refused) = (flow.Accepted.Count, flow.Refused);
                using (DiskFiller.Fill(mta.Home.Queue("")))
                {
                    flow.Resume();
                    (await WaitForRefusals(flow, refused)).Should().BeTrue("the flow meets the full queue filesystem");
                    flow.Pause();
                    acceptedWhileFull = flow.Accepted.Count - accepted;
                    refusedWhileFull = flow.Refusals[refused..];
                }
            }
            finally { flow.Resume(); }
        });
        var v = Finish(flow, mta, "queue filesystem full during accept", []);
        output.WriteLine($"while full: {acceptedWhileFull} accepted, {refusedWhileFull.Count} refused: " +
            string.Join(", ", refusedWhileFull.GroupBy(r => r).Select(g => $"{g.Count()}× {g.Key}")));
        acceptedWhileFull.Should().Be(0, "no message gets its 250 while the queue filesystem is full");
        refusedWhileFull.Should().OnlyContain(r => r.StartsWith("451 "), "a full queue refuses each message at the end of DATA with a 451");
        v.DeliveredWithout250.Should().Be(0, "a message refused for the full queue is never delivered");
        QueueState.Read(mta.Home).Orphans.Should().Be(0, "a refused message leaves no file in the queue");
    }

    [Fact]
    public async Task Queue_filesystem_full_during_delivery()
    {
        var mta = Start(queueMegabytes: QueueMegabytes);
        var flow = new MixedFlow(Count);
        mta.Svc("jsmail-send", "-d"); // the flow waits in todo/
        await flow.SendAll(() => mta.SmtpPort).WaitAsync(TimeSpan.FromMinutes(30));
        var log = mta.SendLog.Length;
        using (DiskFiller.Fill(mta.Home.Queue("")))
        {
            mta.Svc("jsmail-send", "-u");
            // deliveries and todo processing meet the full disk: preprocessing and bounces fail and wait,
            // each in qmail's words: "warning: trouble ..." or "alert: unable to append to bounce message; HELP! sleeping..."
            Wait.Until(() => mta.SendLog.Length > log && (mta.SendLog[log..].Contains("warning:") || mta.SendLog[log..].Contains("alert:")), 120)
                .Should().BeTrue("jsmail-send meets the full queue: " + mta.SendLog[log..]);
            await Task.Delay(3000);
        }
        flow.SendProbe(mta.SmtpPort);
        Finish(flow, mta, "queue filesystem full during delivery", []);
    }

    [Fact]
    public async Task Recipient_maildir_filesystem_full()
    {
        var mta = Start(maildirMegabytes: Math.Max(4, Count / 100));
        var flow = new MixedFlow(Count);
        await During(flow, mta, async _ =>
        {
            await WhenAccepted(flow, Count / 3);
            var log = mta.SendLog.Length;
            using (DiskFiller.Fill(mta.Mailbox(MixedFlow.Alice)))
                Wait.Until(() => mta.SendLog[log..].Contains("deferral:"), 120).Should().BeTrue("local deliveries meet the full Maildir");
        });
        Finish(flow, mta, "recipient's Maildir filesystem full", []);
    }

    [Fact]
    public async Task Descriptors_exhausted_in_the_server_and_the_delivery_processes()
    {
        var mta = Start(beforeScan: m =>
        {
            foreach (var service in new[] { "jsmail-smtpd", "jsmail-queued", "jsmail-send" })
                m.AddToRun(service, "ulimit -n " + DescriptorLimit);
        });
        var flow = new MixedFlow(Count, sessions: 40);
        await During(flow, mta, _ => Task.CompletedTask);
        Finish(flow, mta, $"descriptors limited to {DescriptorLimit}", []);
        // the server sizes its session limit to its descriptors and refuses the sessions beyond it, rather than fail at accept
        var started = mta.LogLines($" {DescriptorLimit} descriptors");
        var refused = mta.LogLines("jsmail-smtpd-server: refused");
        output.WriteLine($"server: {started.FirstOrDefault()}; {refused.Count} sessions refused over the limit");
        started.Should().NotBeEmpty("the server runs with the limited descriptors");
    }

    [Fact]
    public async Task Peer_stalls_mid_DATA()
    {
        var mta = Start(timeoutRemote: 5);
        var flow = new MixedFlow(Count);
        await During(flow, mta, async _ =>
        {
            await WhenAccepted(flow, Count / 3);
            var log = mta.SendLog.Length;
            _peer.Stall = true;
            try
            {
                Wait.Until(() => mta.SendLog[log..].Contains("deferral:"), 120).Should().BeTrue("remote deliveries time out on the stalled peer");
            }
            finally { _peer.Stall = false; }
        });
        Finish(flow, mta, "peer stalls mid-DATA", []);
    }

    private const int DescriptorLimit = 64;

    /// <summary>The fewest kills a run makes, however quickly the flow is sent.</summary>
    private const int MinKills = 5;

    private static int QueueMegabytes => Math.Max(64, Count / 20);

    private FaultMta Start(int queueMegabytes = 0, int maildirMegabytes = 0, int timeoutRemote = 30, Action<FaultMta>? beforeScan = null)
    {
        _mta = new FaultMta(_peer.Port, [MixedFlow.Alice, MixedFlow.Sender, "postmaster"], timeoutRemote);
        if (queueMegabytes > 0) _mta.MountTmpfs(_mta.Home.Queue("").TrimEnd('/'), queueMegabytes);
        if (maildirMegabytes > 0) _mta.MountTmpfs(_mta.Mailbox(MixedFlow.Alice), maildirMegabytes);
        _mta.Start(beforeScan);
        return _mta;
    }

    /// <summary>The flow, with <paramref name="fault"/> running beside it until the flow is sent; then the probe.</summary>
    private static async Task During(MixedFlow flow, FaultMta mta, Func<CancellationToken, Task> fault)
    {
        using var done = new CancellationTokenSource();
        var sending = flow.SendAll(() => mta.SmtpPort);
        var faulting = Task.Run(() => fault(done.Token));
        await sending.WaitAsync(TimeSpan.FromMinutes(60));
        done.Cancel();
        await faulting.WaitAsync(TimeSpan.FromMinutes(5));
        Wait.Until(mta.Ready, 120).Should().BeTrue("every daemon is back: " + mta.Svstat());
        flow.SendProbe(mta.SmtpPort);
    }

    private static Task WhenAccepted(MixedFlow flow, int count) =>
        Task.Run(() => Wait.Until(() => flow.Accepted.Count >= count, 600).Should().BeTrue($"{count} messages accepted"));

    private static Task<bool> WaitForRefusals(MixedFlow flow, int before) =>
        Task.Run(() => Wait.Until(() => flow.Refused > before + 10, 120));

    /// <summary>
    /// The drain (jsmail-send's deferred deliveries retried by ALRM, as an
    /// administrator's svc -a does, bounded), the queue check with jsmail-send
    /// stopped, and the verdict, asserted.
    /// </summary>
    private Verdict Finish(MixedFlow flow, FaultMta mta, string fault, IReadOnlyList<DateTime> kills)
    {
        var clock = Stopwatch.StartNew();
        flow.Accepted.Should().ContainKey(flow.Count, "the probe sent after the fault gets its 250");
        Verdict Judge() => Verdict.Judge(flow, Deliveries.Read(flow, mta, _peer), kills);
        var deadline = DateTime.UtcNow.AddSeconds(300 + flow.Count / 5);
        var v = Judge();
        while (DateTime.UtcNow < deadline && !(v.AllArrived && QueueState.Read(mta.Home).Idle))
        {
            mta.Svc("jsmail-send", "-a");
            Thread.Sleep(3000);
            v = Judge();
        }
        // the queue as jsmail-send's tree left it, with the tree stopped (svc -d: it finishes its deliveries first)
        mta.Svc("jsmail-send", "-d");
        Wait.Until(() => mta.Pids("jsmail-send").Count == 0 && mta.Pids("jsmail-todo").Count == 0, 120).Should().BeTrue();
        var queue = QueueState.Read(mta.Home);
        mta.Svc("jsmail-send", "-u");
        v = Judge();
        var tmp = Directory.EnumerateFiles(Path.Combine(mta.Maildir(MixedFlow.Alice), "tmp")).Count();
        var line = $"{fault}: {v.Counts(flow)}; queue after the drain: {queue}; alice's tmp/ {tmp}; drained in {clock.Elapsed.TotalSeconds:F0} s";
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("JSMAIL_FAULT_REPORT") is { Length: > 0 } report)
            File.AppendAllText(report, line + "\n");

        // a misplaced bounce says why it was made: its failure paragraph names the cause
        foreach (var c in Deliveries.Read(flow, mta, _peer).Bounced.Where(c => v.Misplaced.Any(m => m.EndsWith($"message {c.Message} ({flow.KindOf(c.Message)})"))).Take(3))
            output.WriteLine($"misplaced bounce {c.File}: " + string.Join(" | ", File.ReadLines(c.File, Encoding.Latin1)
                .SkipWhile(l => l.Length > 0).Skip(1).Take(12)));
        // what jsmail-send found wrong on the way: the first place to look when a check below fails
        foreach (var warning in mta.LogLines("warning: ").Take(5)) output.WriteLine(warning);
        Keep(v, queue, mta, fault);
        v.Lost.Should().BeEmpty("every message that got its 250 is delivered or bounced");
        v.Partial.Should().BeEmpty("no cut file in a Maildir's new/ or cur/, nor at the peer");
        v.Misplaced.Should().BeEmpty("each message goes where its kind says");
        v.DisallowedDuplicates.Should().BeEmpty("a second copy only after a cut between the final dot and the reply, or a kill between the copies");
        queue.TodoWithoutFiles.Should().BeEmpty("every todo entry has its mess and intd");
        queue.Idle.Should().BeTrue("nothing is left in the queue after the drain: " + queue);
        return v;
    }

    /// <summary>
    /// With JSMAIL_FAULT_KEEP set, a run whose verdict fails leaves its logs,
    /// queue and peer directory there (a rare failure is read afterwards, not rerun).
    /// </summary>
    private void Keep(Verdict v, QueueState queue, FaultMta mta, string fault)
    {
        if (Environment.GetEnvironmentVariable("JSMAIL_FAULT_KEEP") is not { Length: > 0 } keep) return;
        if (v.Lost.Count + v.Partial.Count + v.Misplaced.Count + v.DisallowedDuplicates.Count + queue.TodoWithoutFiles.Count == 0 && queue.Idle) return;
        var target = Path.Combine(keep, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{fault.Replace(' ', '-')}");
        FaultMta.Sh("mkdir -p \"$3\" && cp -a \"$1\" \"$3/log\" && cp -a \"$2\" \"$3/queue\"", mta.Dir["log"], mta.Home.Queue("").TrimEnd('/'), target);
        _peer.CopyTo(Path.Combine(target, "peer"));
        File.WriteAllLines(Path.Combine(target, "verdict"), [.. v.Lost, .. v.Partial, .. v.Misplaced, .. v.DisallowedDuplicates]);
        output.WriteLine("kept in " + target);
    }

    public void Dispose()
    {
        _mta?.Dispose();
        _peer.Dispose();
    }
}
