using System.Diagnostics;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>qmail-spp plugins under the real tcpserver, with swaks as the client: the per-connection program as qmail sites run it.</summary>
public sealed class SppTcpserverTests : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new();
    private readonly Process _server;
    private readonly int _port;

    public SppTcpserverTests()
    {
        var plugins = Path.Combine(_h.Home.Path, "plugins");
        Directory.CreateDirectory(plugins);
        Write(Path.Combine(plugins, "badsender"),
            """case "$SMTPMAILFROM" in *@spam.example) echo "E553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)" ;; esac""");
        Write(Path.Combine(plugins, "tagger"), """echo "HX-Spp-Helo: $SMTPHELOHOST"; echo "spp tagger: $SMTPRCPTTO" >&2""");
        _h.Home.WriteControl("smtpplugins", "[mail]\nplugins/badsender\n[rcpt]\nplugins/tagger\n");
        _port = Ports.Free();
        _server = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-c", "10", "127.0.0.1", _port.ToString(), _h.Home.Bin("qmail-smtpd")],
            env: SmtpdHome.BaseEnvironment(compat: true), redirect: Redirect.Error | Redirect.Output);
        Ports.WaitForListener(_port, "tcpserver");
    }

    private static void Write(string path, string script)
    {
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
    }

    private RunResult Swaks(string from) => Run.Process("swaks", ["--server", "127.0.0.1", "--port", _port.ToString(), "--helo", "client.example",
        "--from", from, "--to", "a@example.com", "--body", "hello", "--timeout", "20"], timeoutMs: 60_000);

    [Fact]
    public void Swaks_sees_qmail_spps_refusal_and_the_plugins_header_reaches_the_queue()
    {
        var refused = Swaks("x@spam.example");
        refused.Out.Should().Contain("<** 553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)");
        _h.Queued().Should().BeEmpty();

        var accepted = Swaks("s@x.example");
        accepted.ExitCode.Should().Be(0, accepted.Out + accepted.Err);
        accepted.Out.Should().Contain("<-  250 ok").And.MatchRegex("<-  250 ok \\d+ qp \\d+");
        var message = SmtpdHome.S(_h.Queued().Single().Message).Split('\n');
        message[2].Should().StartWith("  by mx.example with SMTP; ");
        message[3].Should().Be("X-Spp-Helo: client.example");
    }

    public void Dispose()
    {
        try { _server.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _server.WaitForExit(10_000);
        _server.Dispose();
        _dir.Dispose();
        _h.Dispose();
    }
}
