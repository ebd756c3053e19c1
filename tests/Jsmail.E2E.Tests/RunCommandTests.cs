using System.Diagnostics;
using System.Text;
using Jsmail.Common.Os;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>
/// scripts/run.sh, the README's run command, started as the README says (with
/// its documented --home, --port and --prebuilt flags so that it runs in a
/// scratch directory from the programs under test).
/// </summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly TempDir _dir = new("jsmail-e2e-run");
    private readonly StringBuilder _output = new();
    private Process? _run;

    private string HomeDir => _dir["home"];

    private void Start(int port)
    {
        _run = Run.Start(Repo.Script("run.sh"), ["--home", HomeDir, "--port", port.ToString(), "--prebuilt", Repo.PublishedDir],
            cwd: Repo.Root, redirect: Redirect.Output | Redirect.Error | Redirect.Input);
        _run.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _run.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _run.BeginOutputReadLine();
        _run.BeginErrorReadLine();
    }

    private string Output { get { lock (_output) return _output.ToString(); } }

    private List<string> Delivered(string mailbox)
    {
        var dir = Path.Combine(HomeDir, "mail", mailbox, "Maildir", "new");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Select(f => File.ReadAllText(f, Encoding.Latin1)).ToList() : [];
    }

    [Fact]
    public void Accepts_a_message_from_swaks_delivers_it_to_its_Maildir_and_stops_on_ctrl_c_leaving_nothing()
    {
        var port = Ports.Free();
        Start(port);
        Wait.Until(() => Output.Contains("Ctrl-C stops") || _run!.HasExited, 300).Should().BeTrue(Output);
        _run!.HasExited.Should().BeFalse(Output);
        Wait.Until(() => Ports.Listening(port), 30).Should().BeTrue(Output);

        var token = "run-" + Guid.NewGuid().ToString("N");
        var r = Run.Process("swaks", ["--server", $"127.0.0.1:{port}", "--from", "someone@example.org",
            "--to", "you@localhost", "--header", "Subject: " + token]);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        var bounced = "unknown-" + Guid.NewGuid().ToString("N");
        r = Run.Process("swaks", ["--server", $"127.0.0.1:{port}", "--from", "you@localhost",
            "--to", "nobody-here@localhost", "--header", "Subject: " + bounced]);
        r.ExitCode.Should().Be(0, r.Out + r.Err);

        // the README's other way in: jsmail-inject, whose "you" means you@localhost.localdomain
        var injected = "inject-" + Guid.NewGuid().ToString("N");
        r = Run.Process(Path.Combine(HomeDir, "bin", "jsmail-inject"), [], Encoding.ASCII.GetBytes($"To: you\nSubject: {injected}\n\nhi\n"));
        r.ExitCode.Should().Be(0, r.Err);

        Wait.Until(() => Delivered("you").Any(m => m.Contains(token)), 60).Should().BeTrue(Output);
        Wait.Until(() => Delivered("you").Any(m => m.Contains(injected)), 60).Should().BeTrue(Output);
        Delivered("you").Single(m => m.Contains(injected)).Should().Contain("Delivered-To: you@localhost.localdomain\n");
        Delivered("you").Single(m => m.Contains(token)).Should().StartWith("Return-Path: <someone@example.org>\nDelivered-To: you@localhost\n");
        // an unknown name bounces to the sender's mailbox
        Wait.Until(() => Delivered("you").Any(m => m.Contains(bounced) && m.Contains("Sorry, no mailbox here by that name. (#5.1.1)")), 60)
            .Should().BeTrue(Output);
        // the log is on the terminal
        Output.Should().MatchRegex(@"(?m)^new msg \d+$").And.MatchRegex(@"(?m)^end msg \d+$").And.Contain("tcpserver: ok ");
        // server mode queues through the queue service, not a jsmail-queue per message
        Output.Should().MatchRegex(@"(?m)^jsmail-queued: msg \d+ uid \d+ pid \d+ bytes \d+ exit 0 queued$");

        Libc.Kill(_run.Id, 2); // what Ctrl-C sends
        _run.WaitForExit(120_000).Should().BeTrue(Output);
        _run.WaitForExit();
        _run.ExitCode.Should().Be(0, Output);
        Output.Should().Contain("status: exiting").And.Contain("jsmail-queued: stopped after ").And.Contain("run.sh: stopped");
        Processes.Under(_dir.Path).Should().BeEmpty("Ctrl-C stops every process of the MTA");
        Ports.Listening(port).Should().BeFalse();
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--port", "smtp")]
    [InlineData("--mailboxes", "You")]
    [InlineData("--ip")]
    public void Refuses_bad_arguments_before_doing_anything(params string[] args)
    {
        var r = Run.Process(Repo.Script("run.sh"), new[] { "--home", HomeDir }.Concat(args));
        r.ExitCode.Should().Be(100, r.Err);
        r.Err.Should().Contain("run.sh: fatal: ");
        Directory.Exists(HomeDir).Should().BeFalse();
    }

    public void Dispose()
    {
        if (_run is { HasExited: false })
        {
            Libc.Kill(_run.Id, 15);
            if (!_run.WaitForExit(60_000)) _run.Kill(entireProcessTree: true);
        }
        Processes.KillAll(_dir.Path);
        _run?.Dispose();
        _dir.Dispose();
    }
}
