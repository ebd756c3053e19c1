#nullable disable warnings
using System.Text;
using Jsmail.TestSupport;
using MimeKit;

namespace Jsmail.Send.Tests;

/// <summary>
/// The delivery status notifications jsmail-send makes beyond failures and
/// local successes (docs/jsmail-send.md): "relayed" reports through the real
/// jsmail-rspawn and jsmail-remote to peers with and without DSN, the one
/// delay warning of a message across a restart, and the size limit of a
/// returned message. Reports are parsed with MimeKit.
/// </summary>
public class DsnReportFlowTests
{
    private static byte[] WithExtension(byte[] envelope, string block) => [.. envelope, .. Encoding.Latin1.GetBytes(block)];

    /// <summary>The delivery status groups of a report, without the empty one MimeKit reads from the part's closing blank line.</summary>
    private static List<HeaderList> Groups(MimeMessage report) =>
        ((MessageDeliveryStatus)((MultipartReport)report.Body)[1]).StatusGroups.Where(g => g.Count > 0).ToList();

    private static MimeMessage Parse(string message) => MimeMessage.Load(new MemoryStream(Encoding.Latin1.GetBytes(message)));

    [Fact]
    public void A_recipient_accepted_by_a_peer_without_DSN_is_reported_relayed_one_accepted_by_a_DSN_peer_is_not()
    {
        using var h = new SendHarness(privileged: true, testSpawners: false);
        using var user = new MailUser(h.Home.Bin("jsmail-maildirmake"));
        using var noDsn = new ScriptedPeer("250-stub\r\n250 PIPELINING", connections: 1);
        using var withDsn = new ScriptedPeer("250-stub\r\n250 DSN", connections: 1);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{noDsn.Port}\ny.test:127.0.0.1:{withDsn.Port}\n");
        h.Start();

        h.Queue(WithExtension(SendHarness.Envelope($"{user.Name}@local.example", "r@x.test", "r@y.test"),
            "X1\0MENVID=REL1\0R0\0PNOTIFY=SUCCESS,FAILURE\0PORCPT=rfc822;r@x.test\0R1\0PNOTIFY=SUCCESS\0\0"), "Subject: relay me\n\nbody\n");
        // the message, then the report delivered into the sender's Maildir
        h.WaitForLog("end msg", 2, 90_000);

        h.CountLog("success report msg").Should().Be(1, h.Log);
        noDsn.Received.Should().Contain("RCPT TO:<r@x.test>\r\n", "a peer without DSN gets no NOTIFY");
        withDsn.Received.Should().Contain("RCPT TO:<r@y.test> NOTIFY=SUCCESS\r\n", "this peer reports the success itself");
        var report = Parse(user.Messages().Should().ContainSingle().Subject);
        report.Subject.Should().Be("Successful Mail Delivery Report");
        report.To.Mailboxes.Single().Address.Should().Be($"{user.Name}@local.example");
        var groups = Groups(report);
        groups.Should().HaveCount(2, "the per-message fields and r@x.test alone");
        groups[0]["Original-Envelope-Id"].Should().Be("REL1");
        groups[1]["Final-Recipient"].Should().Be("rfc822; r@x.test");
        groups[1]["Original-Recipient"].Should().Be("rfc822;r@x.test");
        groups[1]["Action"].Should().Be("relayed");
        groups[1]["Status"].Should().Be("2.0.0");
        groups[1]["Remote-MTA"].Should().Be("dns; 127.0.0.1");
        groups[1]["Diagnostic-Code"].Should().Be("smtp; 250 ok 1 qp 2");
        ((MultipartReport)report.Body)[2].Should().BeOfType<TextRfc822Headers>().Which.Message.Subject.Should().Be("relay me");
    }

    [Fact]
    public void A_delay_warning_goes_once_after_delaywarningtime_and_not_again_after_a_restart()
    {
        using var h = new SendHarness();
        h.Home.WriteControl("delaywarningtime", "2\n");
        h.Start();
        var queued = DateTimeOffset.UtcNow;
        h.Queue(WithExtension(SendHarness.Envelope("s@local.example", "deferz@remote.example"), "X1\0MENVID=DW1\0R0\0PNOTIFY=DELAY,FAILURE\0\0"),
            "Subject: slow one\n\nbody\n");
        h.WaitForLog("deferral");
        h.CountLog("delay warning").Should().Be(0, "the first attempt comes before the time");

        // qmail-send's ALRM: every message is retried now; the message is older than 2 s by then
        SendHarness.WaitUntil(() => DateTimeOffset.UtcNow - queued > TimeSpan.FromSeconds(2.5), 10_000).Should().BeTrue();
        Jsmail.Common.Os.Libc.Kill(h.SendPid, 14);
        h.WaitForLog("delay warning msg");
        SendHarness.WaitUntil(() => h.Copies().Any(c => c.Message.Contains("DW1"))).Should().BeTrue(h.Log);
        var (sender, recipient, message) = h.Copies().Single(c => c.Message.Contains("DW1"));
        (sender, recipient).Should().Be(("", "s@local.example"));
        var warning = Parse(message);
        warning.Subject.Should().Be("Delayed Mail (still being retried)");
        var groups = Groups(warning);
        groups[1]["Final-Recipient"].Should().Be("rfc822; deferz@remote.example");
        groups[1]["Action"].Should().Be("delayed");
        groups[1]["Status"].Should().Be("4.0.0");
        groups[1]["Diagnostic-Code"].Should().Be("x-qmail; temporary failure");
        MimeKit.Utils.DateUtils.TryParse(groups[1]["Will-Retry-Until"], out var until).Should().BeTrue();
        (until - queued).TotalSeconds.Should().BeApproximately(604800, 10, "arrival + queuelifetime");
        ((MultipartReport)warning.Body)[2].Should().BeOfType<TextRfc822Headers>();

        // a new jsmail-send finds the mark: the next deferral, past the time too, warns no more
        h.Home.Entries("bounce").Should().Equal(Path.GetFileName(h.Home.Entries("mess").Single()) + ".delayed");
        h.Stop();
        var deferrals = h.CountLog("deferral");
        var before = h.LogLines.Length;
        h.Start();
        SendHarness.WaitUntil(() => h.LogLines.Length > before).Should().BeTrue(); // its first status line: the handlers are in place
        Jsmail.Common.Os.Libc.Kill(h.SendPid, 14);
        h.WaitForLog("deferral", deferrals + 1);
        h.CountLog("delay warning msg").Should().Be(1, h.Log);
        h.Home.Entries("mess").Should().ContainSingle("the deferred message stays; the warning was delivered");
    }

    [Fact]
    public void A_failure_report_of_a_message_over_bouncemaxbytes_returns_only_its_headers()
    {
        using var h = new SendHarness();
        h.Home.WriteControl("bouncemaxbytes", "1000\n");
        h.Start();
        var body = string.Concat(Enumerable.Repeat("a line of the big message body\n", 200));
        h.Queue(WithExtension(SendHarness.Envelope("s@local.example", "failz@remote.example"), "X1\0MRET=FULL\0MENVID=BIG1\0\0"),
            "Subject: big one\n\n" + body);
        h.WaitForLog("bounce msg");
        SendHarness.WaitUntil(() => h.Copies().Any(c => c.Message.Contains("BIG1"))).Should().BeTrue(h.Log);
        var report = Parse(h.Copies().Single(c => c.Message.Contains("BIG1")).Message);
        Groups(report)[1]["Action"].Should().Be("failed");
        var parts = (MultipartReport)report.Body;
        parts[2].Should().BeOfType<TextRfc822Headers>().Which.Message.Subject.Should().Be("big one");
        ((TextPart)parts[0]).Text.Should().Contain("larger than 1000 bytes: only its header section is returned");
        report.ToString().Should().NotContain("a line of the big message body");
    }
}
