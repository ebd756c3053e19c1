using System.Text;
using Jsmail.TestSupport;
using static Jsmail.Queue.Tests.QueueRunner;

namespace Jsmail.Queue.Tests;

/// <summary>control/queuescanners: what a scanner sees and how its answer becomes the queue's (docs/content-scanning.md).</summary>
public class ContentScanTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-scan");

    public void Dispose()
    {
        _home.Dispose();
        _dir.Dispose();
    }

    private static readonly byte[] Message = B("Subject: scan me\n\nEICAR-ish body\n");
    private static readonly byte[] Envelope = B("Fa@x\0Tb@y\0Tc@z\0\0X1\0MSIZE=30\0\0");

    private string Scanner(string name, string body)
    {
        var path = _dir[name];
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    private void UseScanners(params string[] lines) => _home.WriteControl("queuescanners", string.Join("\n", lines) + "\n");

    private void NothingQueued()
    {
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("mess").Should().BeEmpty("a refused message is removed at once");
        _home.Entries("intd").Should().BeEmpty();
        _home.Entries("ext").Should().BeEmpty();
    }

    [Fact]
    public void Scanner_sees_the_message_on_fd0_and_the_envelope_on_fd3_and_its_environment()
    {
        var seen = _dir["seen"];
        UseScanners(Scanner("look", $"cat > {seen}.msg; cat <&3 > {seen}.env; env > {seen}.envvars; exit 0") + " ignored-arg");
        Run(_home, Message, Envelope).ExitCode.Should().Be(0);

        var id = ulong.Parse(_home.Entries("todo").Single());
        File.ReadAllBytes(seen + ".msg").Should().Equal(_home.ReadQueueFile($"mess/{id % 23}/{id}"),
            "the scanner reads the message as queued, Received line included");
        File.ReadAllBytes(seen + ".env").Should().Equal(Envelope);
        var vars = File.ReadAllText(seen + ".envvars");
        vars.Should().Contain($"JSMAIL_MESSAGE_ID={id}").And.Contain("JSMAIL_HOME=" + _home.Path).And.Contain("JSMAIL_UID=");
    }

    [Theory]
    [InlineData("6", "Dvirus found (#5.7.1)")]
    [InlineData("4", "Dvirus found (#5.7.1)")]
    [InlineData("4 6", "Dvirus found (#5.7.1)")]
    public void Permanent_rejection_with_text_exits_82_on_whichever_error_pipe_is_offered(string fds, string expected)
    {
        UseScanners(Scanner("reject", "echo 'virus found (#5.7.1)'; echo second line; exit 100"));
        var r = Run(_home, Message, Envelope, errorFds: fds);
        r.ExitCode.Should().Be(82);
        r.ErrorPipeText.Should().Be(expected, "the text goes once, even when fd 4 and fd 6 are one pipe");
        NothingQueued();
    }

    [Fact]
    public void Temporary_rejection_with_text_is_Z()
    {
        UseScanners(Scanner("later", "printf 'scanner busy, try later (#4.3.0)\\r\\n'; exit 111"));
        var r = Run(_home, Message, Envelope);
        r.ExitCode.Should().Be(82);
        r.ErrorPipeText.Should().Be("Zscanner busy, try later (#4.3.0)");
        NothingQueued();
    }

    [Theory]
    [InlineData("exit 100", "6", 31)]
    [InlineData("exit 111", "6", 71)]
    [InlineData("echo rejected; exit 100", "", 31)]
    [InlineData("echo later; exit 111", "", 71)]
    public void Without_text_or_without_a_pipe_the_class_survives_as_31_or_71(string body, string fds, int code)
    {
        UseScanners(Scanner("s", body));
        Run(_home, Message, Envelope, errorFds: fds).ExitCode.Should().Be(code);
        NothingQueued();
    }

    [Theory]
    [InlineData("exit 3", "Zcontent scanner failed (#4.3.0)")]
    [InlineData("exit 0 # but first", null)]
    [InlineData("kill -SEGV $$", "Zcontent scanner crashed (#4.3.0)")]
    [InlineData("sleep 30", "Zcontent scan timed out (#4.3.0)")]
    public void Failing_scanners_are_temporary_failures_never_silent_accepts(string body, string? text)
    {
        _home.WriteControl("timeoutqueuescan", "2\n");
        UseScanners(Scanner("s", body));
        var r = Run(_home, Message, Envelope);
        if (text == null)
        {
            r.ExitCode.Should().Be(0);
            return;
        }
        r.ExitCode.Should().Be(82);
        r.ErrorPipeText.Should().Be(text);
        NothingQueued();
    }

    [Fact]
    public void Hung_scanner_and_its_children_are_killed_at_the_timeout()
    {
        _home.WriteControl("timeoutqueuescan", "1\n");
        var pidFile = _dir["child.pid"];
        UseScanners(Scanner("s", $"sleep 60 & echo $! > {pidFile}; wait"));
        Run(_home, Message, Envelope).ErrorPipeText.Should().Be("Zcontent scan timed out (#4.3.0)");
        var child = int.Parse(File.ReadAllText(pidFile).Trim());
        Thread.Sleep(200);
        var stat = $"/proc/{child}/stat";
        var state = File.Exists(stat) ? File.ReadAllText(stat).Split(") ")[1][0] : 'X';
        state.Should().BeOneOf(['X', 'Z'], "the scanner's process group is killed (a zombie waits for its reaper)");
        NothingQueued();
    }

    [Fact]
    public void Scanner_that_cannot_start_is_a_temporary_failure()
    {
        UseScanners(_dir["does-not-exist"]);
        var r = Run(_home, Message, Envelope);
        r.ExitCode.Should().Be(82);
        r.ErrorPipeText.Should().Be("Zunable to run content scanner (#4.3.0)");
        NothingQueued();
    }

    [Fact]
    public void Scanners_run_in_order_and_the_first_refusal_wins()
    {
        var log = _dir["order"];
        UseScanners(
            "# comments and blank lines are skipped",
            "",
            Scanner("one", $"echo one >> {log}; exit 0"),
            Scanner("two", $"echo two >> {log}; echo 'spam score too high'; exit 100"),
            Scanner("three", $"echo three >> {log}; exit 0"));
        Run(_home, Message, Envelope).ErrorPipeText.Should().Be("Dspam score too high");
        File.ReadAllText(log).Should().Be("one\ntwo\n");
        NothingQueued();
    }

    [Fact]
    public void Reply_text_is_cut_to_fit_255_bytes_and_loses_control_bytes()
    {
        UseScanners(Scanner("s", "printf 'bad\\001byte %0300d' 0; exit 100"));
        var r = Run(_home, Message, Envelope);
        r.ErrorPipeText.Length.Should().Be(255);
        r.ErrorPipeText.Should().StartWith("Dbad?byte 000");
    }

    [Fact]
    public void Accepting_scanners_leave_the_commit_untouched()
    {
        UseScanners(Scanner("a", "exit 0"), Scanner("b", "cat >/dev/null; exit 0"));
        Run(_home, Message, Envelope).ExitCode.Should().Be(0);
        _home.Entries("todo").Should().ContainSingle();
        _home.Entries("ext").Should().ContainSingle();
    }
}
