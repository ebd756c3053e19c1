using System.Text.RegularExpressions;
using Jsmail.Common.Os;

namespace Jsmail.Send.Tests;

/// <summary>
/// Issue 16 §1–§2 through the real programs: jsmail-start, -send, -todo,
/// -clean, jsmail-rspawn and jsmail-remote to a scripted SMTP peer on loopback
/// (control/smtproutes). Remote recipients at one domain go out in one SMTP
/// transaction; each keeps its own result, retry and bounce.
/// </summary>
public class GroupedDeliveryFlowTests
{
    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    /// <summary>The number of RCPT commands in each transaction the peer saw, in order.</summary>
    private static int[] RcptsPerTransaction(string received) =>
        received.Split("MAIL FROM:")[1..].Select(t => Count(t, "RCPT TO:")).ToArray();

    /// <summary>Every delivery number has exactly one starting line and one result line (what qmailanalog matches).</summary>
    private static void OneStartAndOneResultPerDelivery(SendHarness h, int deliveries)
    {
        var starts = h.LogLines.Select(l => Regex.Match(l, @"^starting delivery (\d+): ")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        var results = h.LogLines.Select(l => Regex.Match(l, @"^delivery (\d+): (success|deferral|failure): ")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        starts.Should().HaveCount(deliveries, h.Log).And.OnlyHaveUniqueItems();
        results.Should().BeEquivalentTo(starts, h.Log);
    }

    [Fact]
    public void Ten_recipients_at_one_domain_go_in_one_SMTP_transaction()
    {
        using var h = new SendHarness(testSpawners: false);
        using var peer = new ScriptedPeer("250 stub", connections: 1);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        h.Start();

        var recipients = Enumerable.Range(0, 10).Select(i => i == 3 ? "R3@X.Test" : $"r{i}@x.test").ToArray();
        h.Queue(SendHarness.Envelope("s@s.test", recipients));
        h.WaitForLog("end msg", 1, 90_000);

        h.CountLog(": success: ").Should().Be(10, h.Log);
        OneStartAndOneResultPerDelivery(h, 10);
        var received = peer.Received;
        Count(received, "MAIL FROM:").Should().Be(1, received);
        foreach (var r in recipients) Count(received, $"RCPT TO:<{r}>").Should().Be(1, received);
        Count(received, "\r\n.\r\n").Should().Be(1, "the message went once");
    }

    [Fact] // issue 7's parameters, each recipient's on its own RCPT of the one transaction
    public void Each_recipient_of_a_grouped_delivery_gets_its_own_DSN_parameters()
    {
        using var h = new SendHarness(privileged: true, testSpawners: false);
        using var peer = new ScriptedPeer("250-stub\r\n250 DSN", connections: 1);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        h.Start();

        h.Queue([.. SendHarness.Envelope("a@s.test", "c@x.test", "b@x.test", "d@x.test"),
            .. "X1\0MRET=HDRS\0R1\0PNOTIFY=SUCCESS,FAILURE\0R2\0PNOTIFY=NEVER\0\0"u8.ToArray()]);
        h.WaitForLog("end msg", 1, 90_000);

        h.CountLog(": success: ").Should().Be(3, h.Log);
        peer.Received.Should().Contain("MAIL FROM:<a@s.test> RET=HDRS\r\nRCPT TO:<c@x.test>\r\n" +
            "RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE\r\nRCPT TO:<d@x.test> NOTIFY=NEVER\r\nDATA\r\n");
        Count(peer.Received, "MAIL FROM:").Should().Be(1, peer.Received);
    }

    [Fact]
    public void Per_recipient_replies_retry_the_450_bounce_the_550_and_never_resend_the_250()
    {
        using var h = new SendHarness(testSpawners: false);
        using var first = new ScriptedPeer("250 stub", connections: 1, rcpt: new Dictionary<string, string>
        {
            ["later@"] = "450 4.2.1 try later", ["bad@"] = "550 5.1.1 no such user",
        });
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{first.Port}\n");
        h.Start();

        h.Queue(SendHarness.Envelope("s@s.test", "ok@x.test", "later@x.test", "bad@x.test"));
        h.WaitForLog(": failure: ", 1, 90_000);
        h.CountLog(": success: ").Should().Be(1, h.Log);
        h.CountLog(": deferral: ").Should().Be(1, h.Log);
        h.LogLines.Should().Contain(l => l.Contains(": deferral: ") && l.Contains("450_4.2.1_try_later"));
        OneStartAndOneResultPerDelivery(h, 3);
        RcptsPerTransaction(first.Received).Should().Equal([3], first.Received);

        // in the queue: ok and bad are done, later is not; bad's bounce waits for the message to finish
        var remote = h.Home.Entries("remote").Should().ContainSingle().Subject;
        h.Home.ReadQueueFile("remote/" + remote).Should().Equal(TestSupport.TestHome.B("Dok@x.test\0Tlater@x.test\0Dbad@x.test\0"));
        var bounce = h.Home.Entries("bounce").Should().ContainSingle().Subject;
        System.Text.Encoding.Latin1.GetString(h.Home.ReadQueueFile("bounce/" + bounce)).Should().StartWith("<bad@x.test>:\n");

        // the retry (ALRM: now) goes to a peer that takes everything, and so does the bounce to s@s.test
        using var second = new ScriptedPeer("250 stub", connections: 2);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{second.Port}\ns.test:127.0.0.1:{second.Port}\n");
        Libc.Kill(h.SendPid, 14);
        h.WaitForLog("end msg", 2, 90_000);

        var retried = second.Received;
        Count(retried, "RCPT TO:<later@x.test>").Should().Be(1, retried);
        Count(first.Received + retried, "RCPT TO:<ok@x.test>").Should().Be(1, "the 250 recipient is never sent again");
        Count(first.Received + retried, "RCPT TO:<bad@x.test>").Should().Be(1);
        h.CountLog("bounce msg ").Should().Be(1, h.Log);
        Count(retried, "RCPT TO:<s@s.test>").Should().Be(1, "the bounce goes to the sender");
        retried.Should().Contain("Subject: failure notice").And.Contain("<bad@x.test>:\r\n");
        retried.Should().NotContain("<ok@x.test>:").And.NotContain("<later@x.test>:");
    }

    [Fact]
    public void The_limit_in_control_remoterecipients_splits_120_recipients_into_50_50_20()
    {
        using var h = new SendHarness(testSpawners: false);
        using var peer = new ScriptedPeer("250 stub", connections: 3);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        h.Home.WriteControl("remoterecipients", "50\n");
        h.Start();

        h.Queue(SendHarness.Envelope("s@s.test", Enumerable.Range(0, 120).Select(i => $"u{i}@x.test").ToArray()));
        h.WaitForLog("end msg", 1, 120_000);

        h.CountLog(": success: ").Should().Be(120, h.Log);
        OneStartAndOneResultPerDelivery(h, 120);
        RcptsPerTransaction(peer.Received).Order().Should().Equal(20, 50, 50);
    }

    [Theory]
    [InlineData("compat")]
    [InlineData("limit 1")]
    public void Compat_mode_and_a_limit_of_1_keep_one_recipient_per_delivery(string how)
    {
        using var h = new SendHarness(testSpawners: false);
        using var peer = new ScriptedPeer("250 stub", connections: 3);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        if (how == "compat") h.Environment["JSMAIL_COMPAT"] = "qmail";
        else h.Home.WriteControl("remoterecipients", "1\n");
        h.Start();

        h.Queue(SendHarness.Envelope("s@s.test", "a@x.test", "b@x.test", "c@x.test"));
        h.WaitForLog("end msg", 1, 90_000);

        h.CountLog(": success: ").Should().Be(3, h.Log);
        RcptsPerTransaction(peer.Received).Should().Equal([1, 1, 1], peer.Received);
    }

    [Fact]
    public void A_spawner_that_speaks_only_qmails_protocol_gets_one_recipient_per_command()
    {
        // testspawn.py reads qmail's commands only: a grouped one would not parse and its recipients would not be delivered
        using var h = new SendHarness(testSpawners: true);
        h.Start();
        h.Queue(SendHarness.Envelope("s@s.test", "a@x.test", "b@x.test", "c@x.test", "d@y.test"));
        h.WaitForLog("end msg", 1, 60_000);

        h.CountLog(": success: did_1+0+0/").Should().Be(4, h.Log);
        OneStartAndOneResultPerDelivery(h, 4);
        h.Delivered.Select(l => l.Split(' ')[3]).Order().Should().Equal("a@x.test", "b@x.test", "c@x.test", "d@y.test");
    }
}
