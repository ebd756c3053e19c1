using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

/// <summary>qmail-queue's signal handling (§1.3 step 2), on a jsmail-queue blocked reading its message.</summary>
public class SignalTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    public void Dispose() => _home.Dispose();

    /// <summary>
    /// Starts jsmail-queue on a FIFO; once it waits for its message, runs the
    /// shell commands <paramref name="whileWaiting"/> ($pid is jsmail-queue's),
    /// then finishes the message. Returns what the commands printed and the exit code.
    /// </summary>
    private (string Printed, int ExitCode) RunWhileWaiting(string whileWaiting)
    {
        var r = Run.Shell("""
            d=$(mktemp -d); mkfifo "$d/in"; printf 'Fa\0Tb\0\0' > "$d/env"
            exec 7<>"$d/in"
            "$1" <"$d/in" 1<"$d/env" 7>&- &
            pid=$!
            sleep 0.5
            printed=$(eval "$2")
            printf 'Subject: x\n\nbody\n' >&7
            exec 7>&-
            wait $pid; rc=$?
            rm -rf "$d"
            printf '%s\n%s' "$printed" $rc
            """, args: [_home.Bin("jsmail-queue"), whileWaiting], timeoutMs: 30_000);
        var lastLine = r.Out.LastIndexOf('\n');
        return (r.Out[..lastLine], int.Parse(r.Out[(lastLine + 1)..]));
    }

    /// <summary>Sends the signals to a waiting jsmail-queue, then finishes the message; returns the exit code.</summary>
    private int RunWithSignals(string signals) =>
        RunWhileWaiting($"for s in {signals}; do kill -$s $pid; sleep 0.1; done").ExitCode;

    /// <summary>
    /// The handlers are code linked into the executable: jsmail-queue maps no
    /// anonymous memory it can execute, which hardened systems refuse to a
    /// setuid program. Looked at while it waits for its message, handlers installed.
    /// </summary>
    [Fact]
    public void No_anonymous_executable_memory_holds_the_handlers()
    {
        var (printed, exitCode) = RunWhileWaiting("awk '$2 ~ /x/ && $6 == \"\"' /proc/$pid/maps");
        printed.Should().BeEmpty("no mapping is both executable and without a file");
        exitCode.Should().Be(0);
    }

    [Fact]
    public void Hup_int_quit_xcpu_xfsz_vtalrm_prof_and_pipe_are_ignored()
    {
        RunWithSignals("HUP INT QUIT XCPU XFSZ VTALRM PROF PIPE").Should().Be(0);
        _home.Entries("todo").Should().ContainSingle();
    }

    [Fact]
    public void Alarm_exits_52_without_cleanup()
    {
        RunWithSignals("ALRM").Should().Be(52);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("mess").Should().ContainSingle("52 leaves its files for the cleanup");
    }

    [Theory]
    [InlineData("ABRT")]
    [InlineData("ILL")]
    [InlineData("BUS")]
    [InlineData("SYS")]
    [InlineData("FPE")] // the runtime's own SIGFPE handler is replaced: qmail-queue exits 81
    public void Crash_signals_exit_81_without_cleanup(string signal)
    {
        RunWithSignals(signal).Should().Be(81);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("mess").Should().ContainSingle();
    }
}
