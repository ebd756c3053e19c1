using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>The services of install-services.sh under a real svscan, supervise, multilog and tcpserver.</summary>
public sealed class ServiceTests : IDisposable
{
    private readonly LocalUsers _users = new();
    private readonly SmtpSink _sink = new();
    private readonly LocalUsers.User _alice, _bob;
    private readonly SupervisedMta _mta;

    public ServiceTests()
    {
        var maildirmake = Repo.Program("jsmail-maildirmake");
        _alice = _users.Add("e2ea", maildirmake);
        _bob = _users.Add("e2eb", maildirmake);
        _mta = new SupervisedMta(_sink.Port, [_alice, _bob]);
        _mta.Start();
    }

    private static string At(LocalUsers.User u) => u.Name + "@" + SupervisedMta.LocalDomain;

    [Fact]
    public void Smtp_to_a_local_Maildir_and_a_remote_sink_and_a_bounce_back_to_the_sender()
    {
        var token = "tok-" + Guid.NewGuid().ToString("N");
        var r = _mta.Swaks("carol@example.org", $"{At(_alice)},sink@{SupervisedMta.RemoteDomain}", token);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        var bounced = "bounce-" + Guid.NewGuid().ToString("N");
        r = _mta.Swaks(At(_bob), "nosuchuser@" + SupervisedMta.LocalDomain, bounced);
        r.ExitCode.Should().Be(0, r.Out + r.Err);

        Wait.Until(() => _alice.Messages().Any(m => m.Contains(token)), 60).Should().BeTrue(_mta.Log);
        Wait.Until(() => _sink.Messages().Any(m => m.Contains(token)), 60).Should().BeTrue(_mta.Log);
        Wait.Until(() => _bob.Messages().Any(m => m.Contains(bounced)), 60).Should().BeTrue(_mta.Log);

        var delivered = _alice.Messages().Single(m => m.Contains(token));
        delivered.Should().StartWith("Return-Path: <carol@example.org>\nDelivered-To: " + At(_alice) + "\n");
        var bounce = _bob.Messages().Single(m => m.Contains(bounced));
        bounce.Should().Contain("From: MAILER-DAEMON@mail.e2e.test")
            .And.Contain("<nosuchuser@e2e.test>:\nSorry, no mailbox here by that name. (#5.1.1)");
        _sink.Messages().Single(m => m.Contains(token)).Should().Contain("sink@remote.test");

        // qmail's activity log, through multilog (stamped, in log/current)
        Wait.Until(() => Regex.Matches(_mta.Log, "^end msg ", RegexOptions.Multiline).Count >= 3, 30).Should().BeTrue(_mta.Log);
        var log = _mta.Log;
        log.Should().MatchRegex(@"(?m)^new msg \d+$");
        log.Should().MatchRegex(@"(?m)^info msg \d+: bytes \d+ from <carol@example.org> qp \d+ uid \d+$");
        log.Should().MatchRegex($@"(?m)^starting delivery \d+: msg \d+ to local {At(_alice)}$");
        log.Should().MatchRegex(@"(?m)^starting delivery \d+: msg \d+ to remote sink@remote.test$");
        log.Should().MatchRegex(@"(?m)^delivery \d+: success: did_1\+0\+0/$");
        log.Should().MatchRegex(@"(?m)^delivery \d+: success: 127.0.0.1_accepted_message./");
        log.Should().MatchRegex(@"(?m)^delivery \d+: failure: Sorry,_no_mailbox_here_by_that_name._\(#5.1.1\)/$");
        log.Should().MatchRegex(@"(?m)^bounce msg \d+ qp \d+$");
        log.Should().MatchRegex(@"(?m)^end msg \d+$");
        File.ReadAllLines(Path.Combine(_mta.LogDir, "current")).Should().OnlyContain(l => Regex.IsMatch(l, "^@[0-9a-f]{24} "));
        _mta.SmtpdLog.Should().Contain("tcpserver: ok ").And.Contain("tcpserver: end ");
    }

    [Fact]
    public void Svc_flags_act_on_jsmail_send_as_on_qmail_send()
    {
        // -a: ALRM retries a deferred delivery now instead of at its next slot (100 s later for local)
        var flag = Path.Combine(_alice.Home, "open");
        File.WriteAllText(Path.Combine(_alice.Home, ".qmail"), $"|test -e {flag} || exit 111\n./Maildir/\n");
        var token = "alrm-" + Guid.NewGuid().ToString("N");
        _mta.Swaks("carol@example.org", At(_alice), token).ExitCode.Should().Be(0);
        Wait.Until(() => _mta.Log.Contains("deferral:"), 60).Should().BeTrue(_mta.Log);
        File.WriteAllText(flag, "");
        _mta.Svc(_mta.SendService, "-a");
        Wait.Until(() => _alice.Messages().Any(m => m.Contains(token)), 60).Should().BeTrue(_mta.Log);

        // -h: HUP re-reads control/locals
        _mta.Home.WriteControl("locals", "e2e.test\nmail.e2e.test\nnew.test\n");
        _mta.Svc(_mta.SendService, "-h");
        Thread.Sleep(3000); // the re-read is asynchronous and logs nothing; a message sent before it would be remote
        var hup = "hup-" + Guid.NewGuid().ToString("N");
        _mta.Swaks("carol@example.org", _alice.Name + "@new.test", hup).ExitCode.Should().Be(0);
        Wait.Until(() => _alice.Messages().Any(m => m.Contains(hup)), 60).Should().BeTrue(_mta.Log);
        _mta.Log.Should().MatchRegex($@"(?m)^starting delivery \d+: msg \d+ to local {_alice.Name}@new.test$");

        // -t: TERM; qmail-send logs its exit and supervise starts a new one
        var before = SendPid();
        _mta.Svc(_mta.SendService, "-t");
        Wait.Until(() => SendPid() is { } p && p != before, 60).Should().BeTrue(_mta.Svstat());
        _mta.Log.Should().MatchRegex(@"(?m)^status: exiting$");

        // -d: down, nothing of jsmail-send left, mail waits in the queue; -u: up, and it is delivered
        _mta.Svc(_mta.SendService, "-d");
        Wait.Until(() => _mta.Svstat().Contains("jsmail-send: down"), 60).Should().BeTrue(_mta.Svstat());
        Wait.Until(() => !Processes.Programs(Path.Combine(_mta.Home.Path, "bin"))
            .Any(p => p.Exe.EndsWith("/jsmail-send") || p.Exe.EndsWith("/jsmail-lspawn") || p.Exe.EndsWith("/jsmail-todo")), 30)
            .Should().BeTrue();
        var down = "down-" + Guid.NewGuid().ToString("N");
        _mta.Swaks("carol@example.org", At(_alice), down).ExitCode.Should().Be(0);
        Wait.Until(() => _mta.Home.Entries("todo").Count > 0, 10).Should().BeTrue("the message waits in todo/");
        _alice.Messages().Should().NotContain(m => m.Contains(down));
        _mta.Svc(_mta.SendService, "-u");
        Wait.Until(() => _alice.Messages().Any(m => m.Contains(down)), 60).Should().BeTrue(_mta.Log);
    }

    private int? SendPid()
    {
        var m = Regex.Match(_mta.Svstat(), @"jsmail-send: up \(pid (\d+)\)");
        return m.Success ? int.Parse(m.Groups[1].Value) : null;
    }

    public void Dispose()
    {
        _mta.Dispose();
        _sink.Dispose();
        _users.Dispose();
    }
}
