using System.Diagnostics;
using System.Text;
using Jsmail.Common.Os;
using Jsmail.TestSupport;

namespace Jsmail.Common.Tests.Os;

/// <summary>
/// ChildRunner against real processes (/bin/sh scripts), each case through
/// both drivers: the blocking one of per-message programs and the async one
/// of an event loop.
/// </summary>
public class ChildRunnerTests
{
    public enum Driver { Blocking, Async }

    public static TheoryData<Driver> Drivers => [Driver.Blocking, Driver.Async];

    private static async Task<ChildResult> RunWith(Driver driver, ChildRequest request) =>
        driver == Driver.Blocking ? ChildRunner.Run(request) : await ChildRunner.RunAsync(request);

    private static ChildRequest Shell(string script, ChildFd[] fds, int limitMs = 30_000, IReadOnlyList<byte[]>? env = null) =>
        new("/bin/sh", ["sh"u8.ToArray(), "-c"u8.ToArray(), Encoding.UTF8.GetBytes(script)])
        {
            Fds = fds,
            TimeLimit = TimeSpan.FromMilliseconds(limitMs),
            Environment = env,
        };

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_that_exits_gives_its_code_and_what_it_wrote(Driver driver)
    {
        var result = await RunWith(driver, Shell("echo out; echo err >&2; exit 7",
            [ChildFd.Capture(1, 100), ChildFd.Capture(2, 100)]));

        result.End.Should().Be(ChildEnd.Exited);
        result.Code.Should().Be(7);
        Encoding.ASCII.GetString(result.Output(1)).Should().Be("out\n");
        Encoding.ASCII.GetString(result.Output(2)).Should().Be("err\n");
        result.Capped(1).Should().BeFalse();
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_fed_more_than_a_pipe_holds_reads_it_all_while_its_output_is_read(Driver driver)
    {
        var input = new byte[1 << 20];
        new Random(14).NextBytes(input);

        var result = await RunWith(driver, Shell("cat", [ChildFd.Feed(0, input), ChildFd.Capture(1, 2 << 20)]));

        result.ExitedWith(0).Should().BeTrue();
        result.Output(1).Should().Equal(input);
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_killed_by_a_signal_says_which(Driver driver)
    {
        var result = await RunWith(driver, Shell("kill -TERM $$; sleep 5", []));

        result.End.Should().Be(ChildEnd.Signalled);
        result.Code.Should().Be(Libc.SIGTERM);
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_past_its_deadline_is_killed_with_its_grandchildren(Driver driver)
    {
        using var dir = new TempDir();
        var pidFile = dir["grandchild.pid"];
        var request = Shell($"sleep 300 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; sleep 300",
            [ChildFd.Capture(1, 100)], limitMs: 700);

        var clock = Stopwatch.StartNew();
        var result = await RunWith(driver, request);

        result.End.Should().Be(ChildEnd.TimedOut);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim());
        IsGone(grandchild).Should().BeTrue("the grandchild {0} was in the child's process group", grandchild);
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_that_floods_its_output_is_read_to_the_end_and_kept_to_the_cap(Driver driver)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();

        var result = await RunWith(driver, Shell("head -c 20000000 /dev/zero; exit 3", [ChildFd.Capture(1, 1000)]));

        result.ExitedWith(3).Should().BeTrue("it was never stuck on a full pipe");
        result.Output(1).Should().HaveCount(1000);
        result.Capped(1).Should().BeTrue();
        if (driver == Driver.Blocking) // the async reads happen on the watcher thread
            (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20, "20 MB went through a bounded buffer");
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_flooding_past_a_killing_cap_is_killed(Driver driver)
    {
        var result = await RunWith(driver, Shell("while :; do echo flood; done", [ChildFd.Capture(1, 1000, killAtCap: true)]));

        result.End.Should().Be(ChildEnd.Signalled);
        result.Code.Should().Be(Libc.SIGKILL);
        result.Output(1).Should().HaveCount(1000);
        result.Capped(1).Should().BeTrue();
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_child_that_closes_its_stdin_early_does_not_fail_the_feeder(Driver driver)
    {
        var input = new byte[8 << 20];

        var result = await RunWith(driver, Shell("head -c 10 >/dev/null; exec 0<&-; sleep 0.2; echo done; exit 5",
            [ChildFd.Feed(0, input), ChildFd.Capture(1, 100)]));

        result.ExitedWith(5).Should().BeTrue();
        Encoding.ASCII.GetString(result.Output(1)).Should().Be("done\n");
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task A_program_that_does_not_exist_could_not_start(Driver driver)
    {
        var result = await RunWith(driver, new ChildRequest("/nonexistent/program", ["program"u8.ToArray()])
        {
            Fds = [ChildFd.Capture(1, 100)],
        });

        result.End.Should().Be(ChildEnd.CouldNotStart);
        result.Code.Should().Be(Errno.ENOENT);
        result.Output(1).Should().BeEmpty();
    }

    [Theory, MemberData(nameof(Drivers))]
    public async Task Handed_descriptors_and_the_environment_reach_the_child(Driver driver)
    {
        var memfd = Libc.MoveHigh(Libc.MemfdCreate("envelope", 1));
        try
        {
            Libc.WriteAll(memfd, "from fd 3"u8).Should().BeTrue();
            Libc.Lseek(memfd, 0, Libc.SEEK_SET);
            var request = Shell("cat <&3; echo \" $MARK\"; cat", [ChildFd.Pass(3, memfd), ChildFd.DevNull(0), ChildFd.Capture(1, 100)],
                env: ["MARK=marked"u8.ToArray(), "PATH=/usr/bin:/bin"u8.ToArray()]);

            var result = await RunWith(driver, request);

            result.ExitedWith(0).Should().BeTrue();
            Encoding.ASCII.GetString(result.Output(1)).Should().Be("from fd 3 marked\n");
        }
        finally { Libc.Close(memfd); }
    }

    [Fact]
    public async Task Many_async_runs_at_once_each_get_their_own_end_and_output()
    {
        var runs = new Task<ChildResult>[20];
        for (var i = 0; i < runs.Length; i++)
            runs[i] = ChildRunner.RunAsync(Shell($"sleep 0.{i % 3}; echo {i}; exit {i}", [ChildFd.Capture(1, 100)])).AsTask();

        var results = await Task.WhenAll(runs);

        for (var i = 0; i < runs.Length; i++)
        {
            results[i].ExitedWith(i).Should().BeTrue("run {0} exited {0}", i);
            Encoding.ASCII.GetString(results[i].Output(1)).Should().Be($"{i}\n");
        }
    }

    [Fact]
    public async Task Cancelling_an_async_run_kills_the_child_and_cancels_the_task()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var request = new ChildRequest("/bin/sleep", ["sleep"u8.ToArray(), "300"u8.ToArray()]);

        var clock = Stopwatch.StartNew();
        var run = async () => await ChildRunner.RunAsync(request, cancel.Token);

        await run.Should().ThrowAsync<OperationCanceledException>();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
    }

    /// <summary>True once the process is dead (gone, or a zombie waiting for a reaper), within 5 seconds.</summary>
    private static bool IsGone(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            if (Libc.Kill(pid, 0) != 0) return true;
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            }
            catch (IOException) { return true; }
            Thread.Sleep(50);
        }
        return false;
    }
}
