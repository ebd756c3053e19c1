using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.TestSupport;
using static Jsmail.Queue.Tests.QueueRunner;

namespace Jsmail.Queue.Tests;

/// <summary>The real jsmail-queued (docs/jsmail-queued.md): the files of jsmail-queue, through a socket, with group commit.</summary>
public class QueueServiceTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-queued");

    public void Dispose()
    {
        _home.Dispose();
        _dir.Dispose();
    }

    private static readonly byte[] Message = B("Subject: hi\n\nbody line\n.\nlast line without LF");
    private static readonly byte[] Envelope = B("Fa@x\0Tb@y\0Tc@z\0\0X1\0MSIZE=30\0\0");
    private const string ReceivedPattern =
        @"^Received: \(qmail (\d+) invoked by uid (\d+)\); [1-9]\d? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d -0000\n";

    private QueueServiceClient Client(RunningQueueService service, int connections = 4) => new(service.SocketPath, connections);

    private static async Task<QueueServiceAnswer> Submit(QueueServiceClient client, byte[] message, byte[] envelope)
    {
        using var fd = RunningQueueService.MessageFd(message);
        return await client.SendAsync(fd.Fd, envelope);
    }

    private string Mess(ulong id) => $"mess/{id % 23}/{id}";

    [Fact]
    public async Task Writes_the_files_jsmail_queue_writes_byte_for_byte_but_pid_and_time()
    {
        Run(_home, Message, Envelope).ExitCode.Should().Be(0);
        var byQueue = ulong.Parse(_home.Entries("todo").Single());

        using var service = RunningQueueService.Start(_home);
        using var client = Client(service);
        var answer = await Submit(client, Message, Envelope);
        answer.Result.Success.Should().BeTrue(answer.Result.ToString());
        answer.QueuePid.Should().Be(service.Pid);
        var id = answer.MessageId;
        _home.Entries("todo").Should().BeEquivalentTo([byQueue.ToString(), id.ToString()]);
        _home.Entries("pid").Should().BeEmpty();

        var (queuePid, queueMess) = SplitReceived(_home.ReadQueueFile(Mess(byQueue)));
        var (servicePid, serviceMess) = SplitReceived(_home.ReadQueueFile(Mess(id)));
        servicePid.Should().Be(service.Pid.ToString(), "the Received line names the process that wrote the queue");
        serviceMess.Should().Equal(queueMess).And.Equal(Message);

        var uid = Libc.Getuid();
        _home.ReadQueueFile($"intd/{id}").Should().Equal(B($"u{uid}\0p{service.Pid}\0").Concat(B("Fa@x\0Tb@y\0Tc@z\0")));
        _home.ReadQueueFile($"intd/{byQueue}").Should().Equal(B($"u{uid}\0p{queuePid}\0").Concat(B("Fa@x\0Tb@y\0Tc@z\0")));
        _home.ReadQueueFile($"todo/{id}").Should().Equal(_home.ReadQueueFile($"intd/{id}"));
        Inode(_home.Queue($"todo/{id}")).Should().Be(Inode(_home.Queue($"intd/{id}")), "todo is a hard link of intd");
        Inode(_home.Queue(Mess(id))).Should().Be(id);
        _home.ReadQueueFile($"ext/{id % 23}/{id}").Should().Equal(_home.ReadQueueFile($"ext/{byQueue % 23}/{byQueue}"))
            .And.Equal(B("X1\0MSIZE=30\0\0"));
        foreach (var f in new[] { Mess(id), $"intd/{id}", $"ext/{id % 23}/{id}" })
            File.GetUnixFileMode(_home.Queue(f)).Should().Be((UnixFileMode)0x1A4, f); // 0644, as jsmail-queue's

        service.Stop().Should().Be(0);
        service.Log.Should().MatchRegex($"jsmail-queued: msg {id} uid {uid} pid \\d+ bytes {_home.ReadQueueFile(Mess(id)).Length} exit 0 queued\n");
    }

    private static (string Pid, byte[] Body) SplitReceived(byte[] mess)
    {
        var text = Encoding.Latin1.GetString(mess);
        var m = Regex.Match(text, ReceivedPattern);
        m.Success.Should().BeTrue(text);
        m.Groups[2].Value.Should().Be(Libc.Getuid().ToString(), "invoked by the caller's uid");
        return (m.Groups[1].Value, mess[m.Length..]);
    }

    private static ulong Inode(string path) => Libc.StatPath(path, out var st) == 0 ? st.Ino : 0;

    [Theory]
    [InlineData("echo 'virus found (#5.7.1)'; exit 100")]
    [InlineData("printf 'scanner busy, try later (#4.3.0)\\r\\n'; exit 111")]
    [InlineData("exit 100")]
    [InlineData("exit 111")]
    [InlineData("exit 3")]
    public async Task A_refusing_scanner_gives_the_result_jsmail_queue_gives(string scannerBody)
    {
        var scanner = _dir["scanner"];
        File.WriteAllText(scanner, "#!/bin/bash\ncat >/dev/null\n" + scannerBody + "\n");
        File.SetUnixFileMode(scanner, (UnixFileMode)0x1ED);
        _home.WriteControl("queuescanners", scanner + "\n");

        var byQueue = Run(_home, Message, Envelope);
        var expected = QueueResult.FromExit(byQueue.ExitCode, false, B(byQueue.ErrorPipeText));

        using var service = RunningQueueService.Start(_home);
        using var client = Client(service);
        var answer = await Submit(client, Message, Envelope);
        answer.Result.Success.Should().BeFalse();
        answer.Result.ToString().Should().Be(expected.ToString());
        answer.MessageId.Should().Be(0UL);
        foreach (var dir in new[] { "todo", "mess", "intd", "ext", "pid" })
            _home.Entries(dir).Should().BeEmpty("a refused message is removed at once ({0})", dir);
        service.Stop().Should().Be(0);
    }

    [Fact]
    public async Task A_bad_envelope_gives_91_as_jsmail_queue_does()
    {
        var bad = B("Tb@y\0\0");
        var byQueue = Run(_home, Message, bad);
        using var service = RunningQueueService.Start(_home);
        using var client = Client(service);
        var answer = await Submit(client, Message, bad);
        answer.Result.ToString().Should().Be(QueueResult.FromExit(byQueue.ExitCode, false, default).ToString())
            .And.Be("Zqq internal bug (#4.3.0)");
        service.Stop().Should().Be(0);
    }

    [Fact]
    public async Task SIGTERM_answers_the_message_in_flight_then_exits_0()
    {
        var started = _dir["started"];
        var scanner = _dir["slow"];
        File.WriteAllText(scanner, $"#!/bin/bash\ncat >/dev/null\ntouch {started}\nsleep 2\nexit 0\n");
        File.SetUnixFileMode(scanner, (UnixFileMode)0x1ED);
        _home.WriteControl("queuescanners", scanner + "\n");

        using var service = RunningQueueService.Start(_home);
        using var client = Client(service);
        var submission = Task.Run(() => Submit(client, Message, Envelope));
        for (var i = 0; i < 600 && !File.Exists(started); i++) await Task.Delay(50); // bounded: 30 s
        File.Exists(started).Should().BeTrue("the scanner runs: the message is in flight");

        var stopped = Task.Run(service.Stop);
        var answer = await submission;
        answer.Result.Success.Should().BeTrue(answer.Result.ToString());
        (await stopped).Should().Be(0);
        AssertQueued(answer.MessageId);
    }

    [Fact]
    public async Task Two_hundred_messages_from_twenty_connections_are_all_queued_and_consistent()
    {
        using var service = RunningQueueService.Start(_home);
        using var client = Client(service, connections: 20);
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => Submit(client, B($"Subject: {i}\n\nmessage {i}\n"), B($"Fs{i}@x\0Tr{i}@y\0\0")))));

        answers.Should().OnlyContain(a => a.Result.Success);
        answers.Select(a => a.MessageId).Should().OnlyHaveUniqueItems();
        _home.Entries("todo").Should().HaveCount(200);
        foreach (var a in answers) AssertQueued(a.MessageId);
        _home.Entries("pid").Should().BeEmpty();
        service.Stop().Should().Be(0);
        Regex.Matches(service.Log, " exit 0 queued\n").Count.Should().Be(200);
    }

    /// <summary>Committed and consistent: todo is intd, mess exists and holds the Received line and the body.</summary>
    private void AssertQueued(ulong id)
    {
        File.Exists(_home.Queue($"todo/{id}")).Should().BeTrue($"todo/{id}");
        Inode(_home.Queue($"todo/{id}")).Should().Be(Inode(_home.Queue($"intd/{id}")));
        Encoding.Latin1.GetString(_home.ReadQueueFile($"intd/{id}")).Should().MatchRegex("^u\\d+\0p\\d+\0F[^\0]*\0(T[^\0]+\0)+$");
        Encoding.Latin1.GetString(_home.ReadQueueFile(Mess(id))).Should().MatchRegex(ReceivedPattern + "Subject: ");
    }

    [Fact]
    public async Task Twenty_in_flight_cost_fewer_than_one_sync_per_message()
    {
        var counts = _dir["strace"];
        using var service = RunningQueueService.Start(_home, syncCounts: counts);
        using var client = Client(service, connections: 20);
        const int messages = 200;
        var answers = await Task.WhenAll(Enumerable.Range(0, messages).Select(i =>
            Task.Run(() => Submit(client, Message, B($"Fs@x\0Tr{i}@y\0\0")))));
        answers.Should().OnlyContain(a => a.Result.Success);
        service.Stop().Should().Be(0);

        var syncs = SyncCalls(File.ReadAllText(counts));
        syncs.Should().BeGreaterThan(0, "the messages were made durable");
        syncs.Should().BeLessThan(messages, "syncs per message below 1 at 20 in flight ({0} for {1})", syncs, messages);
        // the service's own account at exit agrees with strace's count, and says how the messages were batched
        var summary = Regex.Match(service.Log, @"jsmail-queued: stopped after (\d+) syncs: (\d+) messages linked in (\d+) batches; (\d+) arrived, \d+ of them within 1000 µs of the one before; a sync took \d+ µs on average; \d+ holds for \d+ ms in all\n");
        summary.Success.Should().BeTrue(service.Log);
        int Group(int i) => int.Parse(summary.Groups[i].Value);
        (Group(1), Group(2), Group(4)).Should().Be((syncs, messages, messages));
        Group(3).Should().BeInRange(1, syncs, "a batch costs at least one sync");
    }

    /// <summary>The calls column of strace -c's table, summed over fsync, fdatasync and syncfs.</summary>
    private static int SyncCalls(string table)
    {
        var total = 0;
        foreach (Match m in Regex.Matches(table, @"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync|syncfs)\s*$", RegexOptions.Multiline))
            total += int.Parse(m.Groups[1].Value);
        return total;
    }

    [Fact]
    public async Task Kill_9_while_twenty_clients_submit_loses_no_message_that_got_its_success()
    {
        var service = RunningQueueService.Start(_home);
        using var client = Client(service, connections: 20);
        var succeeded = new ConcurrentBag<ulong>();
        var failures = new ConcurrentBag<string>();

        async Task Submitter(int n)
        {
            for (var i = 0; i < 500; i++) // bounded: the service is killed long before
            {
                var a = await Submit(client, B($"Subject: {n}.{i}\n\nbody\n"), B($"Fs@x\0Tr{n}.{i}@y\0\0"));
                if (!a.Result.Success)
                {
                    failures.Add(a.Result.ToString());
                    return;
                }
                succeeded.Add(a.MessageId);
            }
        }

        var submitters = Enumerable.Range(0, 20).Select(n => Task.Run(() => Submitter(n))).ToArray();
        for (var i = 0; i < 600 && succeeded.Count < 100; i++) await Task.Delay(50); // bounded: 30 s
        service.KillHard();
        service.Dispose();
        await Task.WhenAll(submitters);

        succeeded.Should().NotBeEmpty();
        failures.Should().HaveCount(20, "every client ends with a failure once the service is gone, never a success");
        failures.Should().OnlyContain(f => f == "Zqq crashed (#4.3.0)" || f == QueueServiceClient.Unreachable);
        foreach (var id in succeeded) AssertQueued(id);
        foreach (var todo in _home.Entries("todo"))
        {
            var id = ulong.Parse(todo);
            File.Exists(_home.Queue(Mess(id))).Should().BeTrue($"todo/{id} has its mess");
            AssertQueued(id);
        }
    }

    [Fact]
    public void A_client_whose_uid_is_not_allowed_is_refused()
    {
        using var service = RunningQueueService.Start(_home);
        // Open the socket's directory to everyone: the peer check alone must refuse.
        File.SetUnixFileMode(Path.GetDirectoryName(service.SocketPath)!, (UnixFileMode)0x1ED);
        var r = RunningQueueService.SubmitAs("65534", "65534", service.SocketPath);
        r.Out.Trim().Should().Be("closed", r.Err);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("mess").Should().BeEmpty();
        service.Stop().Should().Be(0);
        service.Log.Should().Contain("refused a client with uid 65534");
    }

    [Fact]
    public async Task With_no_service_listening_the_client_says_so_without_sending()
    {
        using var client = new QueueServiceClient(QueueServiceClient.SocketPath(_home.Path));
        var answer = await Submit(client, Message, Envelope);
        answer.Reached.Should().BeFalse();
        answer.Result.ToString().Should().Be("Zunable to exec qq (#4.3.0)");
    }
}
