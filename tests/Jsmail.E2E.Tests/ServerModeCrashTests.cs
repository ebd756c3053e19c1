using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.E2E.Tests;

/// <summary>
/// kill -9 of jsmail-smtpd-server, then of jsmail-queued, while 50 SMTP
/// sessions at once (as smtp-source -s 50 -l 2048) send into server mode with
/// the queue service behind it (--queue service). Each message carries its own
/// token, and the test keeps each one's reply to the end of DATA, so the proof
/// is per message: every message that got its 250 is in the queue (mess with
/// the token, intd and todo), whatever else was cut. The number of messages is
/// JSMAIL_E2E_CRASH_MESSAGES (default 2000).
/// </summary>
public sealed class ServerModeCrashTests(ITestOutputHelper output) : IDisposable
{
    private const string Recipient = "rcpt@e2e.test";
    private const int Sessions = 50;
    private readonly TestHome _home = InstallHome();
    private readonly List<Process> _processes = [];
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private volatile int _port;

    private static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("JSMAIL_E2E_CRASH_MESSAGES"), out var n) && n > 0 ? n : 2000;

    private static TestHome InstallHome()
    {
        var home = TestHome.Install();
        home.WriteControl("me", "mail.e2e.test\n");
        home.WriteControl("rcpthosts", "e2e.test\n");
        return home;
    }

    /// <summary>One message's outcome: the epochs its session started and ended in, and its reply to the end of DATA (null: none).</summary>
    private sealed record Outcome(int Epoch, int EndEpoch, string? Reply);

    [Fact]
    public async Task Every_message_that_got_its_250_is_queued_despite_kill_9_of_the_server()
    {
        var queued = StartQueueService();
        var server = StartServer("--queue", "service");
        var outcomes = new ConcurrentDictionary<int, Outcome>();
        var epoch = 0;
        using var stop = new CancellationTokenSource();
        var senders = StartSenders(outcomes, () => Volatile.Read(ref epoch), stop.Token);

        KillWhenHalfAccepted(server, outcomes);
        Volatile.Write(ref epoch, 1);
        StartServer("--queue", "service"); // on a new port: the clients follow it
        WaitFor(() => Accepted(outcomes).Count() >= Count, "the restarted server accepts the rest");
        await StopAll(stop, senders, queued);

        var cut = outcomes.Values.Count(o => o.Epoch == 0 && o.Reply == null);
        output.WriteLine($"{outcomes.Count} sent, {Accepted(outcomes).Count()} accepted, {cut} cut by the kill");
        cut.Should().BePositive("sessions begun before the kill got no reply");
        Accepted(outcomes).Where(i => outcomes[i].Epoch == 1).Should().NotBeEmpty("the restarted server accepts messages");
        var queue = QueueContents();
        Accepted(outcomes).Where(i => !queue.Contains(i)).Should().BeEmpty("every message that got its 250 is in the queue");
        Deliver(queue.Count).Where(i => !queue.Contains(i)).Should().BeEmpty("only queued messages are delivered");
    }

    [Fact]
    public async Task While_the_queue_service_is_killed_no_message_gets_250_and_after_its_restart_messages_are_queued_again()
    {
        var queued = StartQueueService();
        StartServer("--queue", "service");
        var outcomes = new ConcurrentDictionary<int, Outcome>();
        var epoch = 0; // 0 before the kill, 1 the service dead, 2 after its restart
        using var stop = new CancellationTokenSource();
        var senders = StartSenders(outcomes, () => Volatile.Read(ref epoch), stop.Token);

        KillWhenHalfAccepted(queued, outcomes);
        Volatile.Write(ref epoch, 1);
        WaitFor(() => outcomes.Values.Count(o => o.Epoch == 1 && o.EndEpoch == 1 && o.Reply != null) >= 2 * Sessions,
            "sessions started while the service is dead get their replies");
        Volatile.Write(ref epoch, 2);
        queued = StartQueueService();
        var before = Accepted(outcomes).Count();
        WaitFor(() => Accepted(outcomes).Count(i => outcomes[i].Epoch == 2) >= Count / 2, "the restarted service queues again");
        await StopAll(stop, senders, queued);

        // the sessions that began and ended while the service was dead
        var dead = outcomes.Where(o => o.Value.Epoch == 1 && o.Value.EndEpoch == 1).ToList();
        output.WriteLine($"{outcomes.Count} sent, {before} accepted before the restart, {dead.Count} while the service was dead, " +
            $"{Accepted(outcomes).Count()} accepted in all");
        dead.Where(o => o.Value.Reply != null).Select(o => o.Value.Reply)
            .Should().OnlyContain(r => r!.StartsWith("451 4.3.0 "), "with --queue service a dead service means 451, never 250");
        var queue = QueueContents();
        dead.Select(o => o.Key).Where(queue.Contains).Should().BeEmpty("nothing is queued while the service is dead");
        Accepted(outcomes).Where(i => !queue.Contains(i)).Should().BeEmpty("every message that got its 250 is in the queue");
        Deliver(queue.Count).Where(i => !queue.Contains(i)).Should().BeEmpty("only queued messages are delivered");
    }

    /// <summary>kill -9 of <paramref name="victim"/> once half the messages got their 250 (bounded wait).</summary>
    private static void KillWhenHalfAccepted(Process victim, ConcurrentDictionary<int, Outcome> outcomes)
    {
        WaitFor(() => Accepted(outcomes).Count() >= Count / 2, "half the messages are accepted before the kill");
        Libc.Kill(victim.Id, Libc.SIGKILL).Should().Be(0);
        victim.WaitForExit(30_000).Should().BeTrue();
    }

    /// <summary>Stops the senders, then the queue service (SIGTERM: it answers what it has, then exits).</summary>
    private static async Task StopAll(CancellationTokenSource stop, Task[] senders, Process queued)
    {
        stop.Cancel();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromMinutes(5));
        Libc.Kill(queued.Id, Libc.SIGTERM);
        queued.WaitForExit(60_000).Should().BeTrue();
    }

    /// <summary>The messages whose DATA got 250.</summary>
    private static IEnumerable<int> Accepted(ConcurrentDictionary<int, Outcome> outcomes) =>
        outcomes.Where(o => o.Value.Reply?.StartsWith("250 ") == true).Select(o => o.Key);

    /// <summary>
    /// 50 sessions at once, one message each, 2 KB, until stopped (bounded: at
    /// most ten times the count in all). Each message is recorded with the epochs
    /// its session started and ended in.
    /// </summary>
    private Task[] StartSenders(ConcurrentDictionary<int, Outcome> outcomes, Func<int> epoch, CancellationToken stop)
    {
        var next = -1;
        var limit = Count * 10;
        var padding = new string('x', 72);
        return Enumerable.Range(0, Sessions).Select(_ => Task.Factory.StartNew(() =>
        {
            int i;
            while (!stop.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < limit)
            {
                var token = $"srvcrash-{_run}-{i}-end";
                var message = new StringBuilder($"Subject: {token}\nMessage-ID: <{token}@crash.example>\n\n{token}\n");
                while (message.Length < 2048) message.Append(padding).Append('\n');
                var started = epoch();
                var reply = SmtpSubmitter.DataReply(_port, "sender@example.org", [Recipient], message.ToString());
                outcomes[i] = new Outcome(started, epoch(), reply);
                if (reply == null) Thread.Sleep(20); // a refused connection: the server is being restarted
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
    }

    /// <summary>
    /// The tokens of the messages that are queued: a todo entry whose mess and
    /// intd exist. Also checks the queue is consistent: no todo entry lacks
    /// either.
    /// </summary>
    private HashSet<int> QueueContents()
    {
        var pattern = Tokens;
        static Dictionary<string, string> ById(TestHome home, string dir) =>
            home.Entries(dir).ToDictionary(f => Path.GetFileName(f), f => Path.Combine(dir, f));
        var mess = ById(_home, "mess");
        var intd = ById(_home, "intd");
        var todo = ById(_home, "todo");
        todo.Keys.Where(id => !mess.ContainsKey(id) || !intd.ContainsKey(id))
            .Should().BeEmpty("every todo entry has its mess and intd");
        var queued = new HashSet<int>();
        foreach (var id in todo.Keys)
        {
            var match = pattern.Match(Encoding.Latin1.GetString(_home.ReadQueueFile(mess[id])));
            if (match.Success) queued.Add(int.Parse(match.Groups[1].Value)).Should().BeTrue("a message is queued once");
        }
        output.WriteLine($"queue: {todo.Count} todo, {mess.Count} mess, {intd.Count} intd");
        return queued;
    }

    private Regex Tokens => new($@"srvcrash-{_run}-(\d+)-end");

    /// <summary>
    /// jsmail-start on the queue, delivering to the recipient's Maildir (as
    /// nobody: qmail never delivers as root) until <paramref name="count"/>
    /// messages arrived (bounded); the tokens delivered.
    /// </summary>
    private HashSet<int> Deliver(int count)
    {
        var mailbox = Path.Combine(_home.Path, "rcpt");
        var id = Run.Shell("mkdir -p \"$1\" && \"$2/bin/maildirmake\" \"$1/Maildir\" && chown -R nobody: \"$1\" && id -u nobody && id -g nobody",
            args: [mailbox, _home.Path]);
        id.ExitCode.Should().Be(0, id.Err);
        var ids = id.Out.Split('\n');
        _home.WriteControl("locals", "e2e.test\n");
        File.WriteAllText(Path.Combine(_home.Path, "users", "assign"), $"=rcpt:nobody:{ids[0]}:{ids[1]}:{mailbox}:::\n.\n");
        Run.Process(_home.Bin("qmail-newu"), []).ExitCode.Should().Be(0);
        var send = Track(Run.Start("/bin/bash", ["-c", "cd / && exec env - PATH=\"$1/bin:/usr/bin:/bin\" jsmail-start ./Maildir/ >/dev/null 2>&1 </dev/null",
            "bash", _home.Path]));
        var delivered = new HashSet<int>();
        var pattern = Tokens;
        var seen = new HashSet<string>();
        var newDir = Path.Combine(mailbox, "Maildir", "new");
        WaitFor(() =>
        {
            foreach (var file in Directory.EnumerateFiles(newDir).Where(seen.Add).ToList())
            {
                var match = pattern.Match(File.ReadAllText(file, Encoding.Latin1));
                if (match.Success) delivered.Add(int.Parse(match.Groups[1].Value)).Should().BeTrue("a message is delivered once");
            }
            return delivered.Count >= count || send.HasExited;
        }, "jsmail-send delivers the queue");
        Libc.Kill(send.Id, Libc.SIGTERM);
        send.WaitForExit(60_000).Should().BeTrue("jsmail-send stops on SIGTERM");
        output.WriteLine($"delivered {delivered.Count} of {count} queued");
        delivered.Should().HaveCount(count, "every queued message is delivered");
        return delivered;
    }

    private Process StartQueueService()
    {
        var socket = Path.Combine(_home.Path, "queued", "socket");
        var process = Track(Run.Start(_home.Bin("jsmail-queued"), [], redirect: Redirect.Error));
        process.ErrorDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        // a socket left by a killed service stays until the new one replaces it: wait for the start line's effect
        WaitFor(() => process.HasExited || (File.Exists(socket) && Listens(socket)), "jsmail-queued listens");
        process.HasExited.Should().BeFalse("jsmail-queued starts");
        return process;
    }

    private static bool Listens(string socket)
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try { s.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket)); return true; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    /// <summary>jsmail-smtpd in server mode on a new free port, serving as the home's owner; the senders follow it.</summary>
    private Process StartServer(params string[] options)
    {
        var port = Ports.Free();
        var log = new StringBuilder();
        var process = Track(Run.Start(_home.Bin("jsmail-smtpd"),
            ["--listen", $"127.0.0.1:{port}", "--local-host", "mail.e2e.test", "--single-user", .. options],
            redirect: Redirect.Error | Redirect.Output));
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        WaitFor(() => process.HasExited || Ports.Listening(port), "jsmail-smtpd-server listens");
        process.HasExited.Should().BeFalse(log.ToString());
        _port = port;
        return process;
    }

    private Process Track(Process process)
    {
        lock (_processes) _processes.Add(process);
        return process;
    }

    private static void WaitFor(Func<bool> done, string what) =>
        Wait.Until(done, 600, pollMs: 20).Should().BeTrue(what);

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited) { Libc.Kill(p.Id, Libc.SIGKILL); p.WaitForExit(30_000); }
            p.Dispose();
        }
        Processes.KillAll(_home.Path);
        _home.Dispose();
    }
}
