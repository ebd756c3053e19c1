using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>jsmail-start, -send, -todo and -clean together, driven through the test spawner.</summary>
public class SendFlowTests
{
    private static string Mask(string line) =>
        Regex.Replace(Regex.Replace(Regex.Replace(line, @"msg \d+", "msg N"), @"bytes \d+", "bytes S"), @"qp \d+ uid \d+", "qp P uid U");

    [Fact] // §16 items 5, 6 and 55 (jsmail-todo's lines reach the log unchanged)
    public void Log_of_an_empty_and_a_local_message_is_qmails()
    {
        using var h = new SendHarness();
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20");
        h.Queue(SendHarness.Envelope("a@x"));
        h.WaitForLog("end msg");
        h.Queue(SendHarness.Envelope("s@x", "bob@local.example"));
        h.WaitForLog("end msg", 2);
        h.LogLines.Select(Mask).Should().Equal(
            "status: local 0/10 remote 0/20",
            "new msg N", "info msg N: bytes S from <a@x> qp P uid U", "end msg N",
            "new msg N", "info msg N: bytes S from <s@x> qp P uid U",
            "starting delivery 1: msg N to local bob@local.example",
            "status: local 1/10 remote 0/20",
            "delivery 1: success: did_1+0+0/",
            "status: local 0/10 remote 0/20",
            "end msg N");
        h.ShouldEmpty("info", "mess");
        File.ReadAllText(Path.Combine(h.Home.Path, "argv-L")).Should().Be("['./Mailbox']"); // §16 item 53
    }

    [Fact] // §16 items 10 and 11: single, double and triple bounce
    public void Bounces_are_qmails_byte_for_byte()
    {
        using var h = new SendHarness();
        h.Home.WriteControl("doublebouncehost", "dbh.example\n");
        h.Home.WriteControl("doublebounceto", "pm\n");
        h.Start();
        h.Queue(SendHarness.Envelope("s@local.example", "failx@remote.example", "ok@remote.example"), "Subject: one\n\nbody\n");
        h.WaitForLog("end msg", 2);
        var bounce = h.Copies().Single(c => c.Recipient == "s@local.example");
        bounce.Sender.Should().Be("");
        var text = Regex.Replace(bounce.Message, @"^Received: \(qmail \d+ invoked [^\n]*\n", "");
        text = Regex.Replace(text, @"^Date: [^\n]*\n", "Date: D\n");
        var original = Regex.Match(text, @"Return-Path: <s@local.example>\n(Received: \(qmail \d+ invoked by uid \d+\); [^\n]*\n)").Groups[1].Value;
        original.Should().NotBeEmpty();
        text.Should().Be(
            "Date: D\nFrom: MAILER-DAEMON@me.example\nTo: s@local.example\nSubject: failure notice\n\n" +
            "Hi. This is the qmail-send program at me.example.\n" +
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n" +
            "<failx@remote.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n" +
            "--- Below this line is a copy of the message.\n\n" +
            "Return-Path: <s@local.example>\n" + original + "Subject: one\n\nbody\n");

        // the bounce of a bounce goes to doublebounceto@doublebouncehost from #@[]
        h.Queue(SendHarness.Envelope("failsender@remote.example", "failrcpt@remote.example"));
        h.WaitForLog("end msg", 5);
        var dbl = h.Copies().Single(c => c.Recipient == "pm@dbh.example");
        dbl.Sender.Should().Be("#@[]");
        dbl.Message.Should().Contain("\nTo: pm@dbh.example\nSubject: failure notice\n\nHi. This is the qmail-send program at me.example.\n" +
            "I tried to deliver a bounce message to this address, but the bounce bounced!\n\n" +
            "<failsender@remote.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n" +
            "--- Below this line is the original bounce.\n\nReturn-Path: <>\n");

        // and the bounce of that is discarded
        h.Home.WriteControl("doublebounceto", "failpm\n");
        h.Stop();
        h.Start();
        h.Queue(SendHarness.Envelope("failsender2@remote.example", "failrcpt2@remote.example"));
        h.WaitForLog("triple bounce: discarding bounce/");
        h.LogLines.Should().ContainMatch("bounce msg * qp *");
    }

    [Fact] // §16 item 12
    public void Verp_sender_reaches_the_spawner_expanded_and_bounces_go_to_the_list()
    {
        using var h = new SendHarness();
        h.Start();
        h.Queue(SendHarness.Envelope("list-@lists.example-@[]", "bob@b.example", "failv@b.example"));
        h.WaitForLog("end msg", 2);
        h.Delivered.Select(l => string.Join(' ', l.Split(' ').Skip(2).Take(2))).Should().Contain("list-bob=b.example@lists.example bob@b.example");
        h.Copies().Should().Contain(c => c.Recipient == "list-@lists.example" && c.Sender == "");
    }

    [Fact] // §16 items 13, 14 and 15; SIGALRM
    public void Deferral_retry_time_TERM_ALRM_and_queue_lifetime()
    {
        using var h = new SendHarness();
        h.Start();
        h.Queue(SendHarness.Envelope("s@local.example", "deferx@remote.example"));
        h.WaitForLog("delivery 1: deferral: temporary_failure/");
        Jsmail.Common.Os.Libc.Kill(h.SendPid, 14);
        h.WaitForLog("delivery 2: deferral: temporary_failure/");
        h.Stop();
        h.LogLines[^1].Should().Be("status: exiting");
        var info = h.Home.Entries("info").Single();
        var birth = new DateTimeOffset(File.GetLastWriteTimeUtc(h.Home.Queue("info/" + info))).ToUnixTimeSeconds();
        var due = new DateTimeOffset(File.GetLastWriteTimeUtc(h.Home.Queue("remote/" + info))).ToUnixTimeSeconds();
        new long[] { 400, 441, 484, 529 }.Should().Contain(due - birth); // birth + (isqrt(age) + 20)²

        // a restart keeps the schedule; a message older than queuelifetime fails at its next pass
        File.SetLastWriteTimeUtc(h.Home.Queue("info/" + info), DateTime.UtcNow.AddSeconds(-1000));
        h.Home.WriteControl("queuelifetime", "100\n");
        var before = h.LogLines.Length;
        h.Start();
        SendHarness.WaitUntil(() => h.LogLines.Length > before).Should().BeTrue(); // its first status line: the handlers are in place
        h.CountLog("starting delivery").Should().Be(2);
        Jsmail.Common.Os.Libc.Kill(h.SendPid, 14);
        h.WaitForLog("end msg", 2); // the message, then its bounce
        h.LogLines.Should().Contain("delivery 1: failure: temporary_failure/I'm_not_going_to_try_again;_this_message_has_been_in_the_queue_too_long./");
        h.Copies().Single(c => c.Recipient == "s@local.example").Message.Should().Contain(
            "<deferx@remote.example>:\ntemporary failure\nI'm not going to try again; this message has been in the queue too long.\n\n");
    }

    [Fact] // §16 item 16
    public void A_second_send_refuses_to_start()
    {
        using var h = new SendHarness();
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20");
        var r = Run.Shell("cd \"$1\" && bin/qmail-send 0>second.log; echo $?; cat second.log", args: [h.Home.Path]);
        r.Out.Should().Be("111\nalert: cannot start: qmail-send is already running\n");
    }

    [Fact] // docs/envelope.md: a jsmail-queue extension and a plain envelope give the same deliveries
    public void Extension_and_plain_queue_deliver_the_same()
    {
        using var h = new SendHarness();
        h.Start();
        var plain = SendHarness.Envelope("s@x", "r1@remote.example", "bob@local.example", "deferz@remote.example");
        var ext = plain.Concat(Encoding.ASCII.GetBytes("X1\0MSIZE=10\0R2\0PNOTIFY=NEVER\0\0")).ToArray();
        h.Queue(plain);
        h.WaitForLog("deferral", 1);
        h.Queue(ext);
        h.WaitForLog("deferral", 2);
        var lines = h.Delivered.Select(l => string.Join(' ', l.Split(' ').Where((_, i) => i != 1))).ToList();
        lines.Should().HaveCount(4);
        lines.Take(2).Order().Should().Equal(lines.Skip(2).Order());
    }

    [Fact] // §16 item 36 on the published program, with jsmail's ext/ removal
    public void Clean_program_replies_and_removes()
    {
        using var home = TestHome.Install();
        File.WriteAllText(home.Queue("todo/123"), "");
        File.WriteAllText(home.Queue("intd/123"), "");
        File.WriteAllText(home.Queue("mess/12/127"), "");
        File.WriteAllText(home.Queue("ext/12/127"), "");
        var r = Run.Process(home.Bin("qmail-clean"), [], Encoding.ASCII.GetBytes("todo/123\0foop/127\0junk\0todo/abc\0foop/999\0"));
        r.ExitCode.Should().Be(0);
        r.Out.Should().Be("++xxxxx+");
        home.Entries("todo").Concat(home.Entries("intd")).Concat(home.Entries("mess")).Concat(home.Entries("ext")).Should().BeEmpty();
    }
}
