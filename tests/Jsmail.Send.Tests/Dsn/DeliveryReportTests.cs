#nullable disable
using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;
using Jsmail.Send.Send.Dsn;
using MimeKit;

namespace Jsmail.Send.Tests.Dsn;

/// <summary>The RFC 3464 report builder and the reading of the bounce file and parameters it is made from.</summary>
public class DeliveryReportTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private const string Message = "Received: (qmail 1 invoked by uid 0); 4 Dec 2026 18:00:00 -0000\nFrom: bob@x.test\nSubject: hello\n\nthe body line\n";

    private static DsnRequest Request(string mail, params (string Address, string Params)[] rcpts)
    {
        var ext = new EnvelopeExtension();
        foreach (var p in mail.Split(' ', StringSplitOptions.RemoveEmptyEntries)) ext.Sender.Add(Param(p));
        for (var k = 0; k < rcpts.Length; k++)
            foreach (var p in rcpts[k].Params.Split(' ', StringSplitOptions.RemoveEmptyEntries)) ext.ForRecipient(k).Add(Param(p));
        return DsnRequest.From(new RemoteParameters(1, 1, rcpts.Select(r => B(r.Address)).ToList(), ext), a => a);
    }

    private static EsmtpParameter Param(string p) => p.IndexOf('=') is var eq and >= 0 ? EsmtpParameter.Of(p[..eq], p[(eq + 1)..]) : EsmtpParameter.Of(p);

    private static MimeMessage Build(DsnRequest dsn, string bounceFile, bool success) =>
        Build(dsn, bounceFile, success ? ReportKind.Success : ReportKind.Failure);

    private static MimeMessage Build(DsnRequest dsn, string bounceFile, ReportKind kind, int maxReturnedBytes = 0)
    {
        var reported = ReportPlan.Reported(ReportBlocks.Parse(B(bounceFile)), dsn, kind);
        var bytes = DeliveryReport.Build(new DeliveryReportInput(1_796_400_000, "MAILER-DAEMON@mail.x.test", "bob@x.test", "mail.x.test",
            dsn.EnvelopeId, 1_796_399_000, dsn.HeadersOnly, kind, 42, reported, B(Message), 1_796_399_000 + 604800, maxReturnedBytes, dsn.RequireTls));
        Encoding.UTF8.GetString(bytes).Should().NotContain("\r", "the queue keeps LF line ends");
        if (Environment.GetEnvironmentVariable("DSN_DUMP") is { } dump) File.WriteAllBytes(dump, bytes);
        return MimeMessage.Load(new MemoryStream(bytes));
    }

    [Fact]
    public void A_failure_report_with_RET_HDRS_carries_the_envelope_id_the_original_recipient_and_the_headers_only()
    {
        var dsn = Request("RET=HDRS ENVID=env+2B42", ("a@x.test", "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;A+2Bx@x.test"), ("c@x.test", "NOTIFY=NEVER"));
        dsn.Asked.Should().BeTrue();
        var m = Build(dsn, "<a@x.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n<c@x.test>:\nno\n\n", success: false);

        m.Headers["Auto-Submitted"].Should().Be("auto-replied");
        m.To.Mailboxes.Single().Address.Should().Be("bob@x.test");
        var report = m.Body.Should().BeOfType<MultipartReport>().Subject;
        report.ReportType.Should().Be("delivery-status");
        report.Should().HaveCount(3);
        ((TextPart)report[0]).Text.Should().Contain("<a@x.test>:\nSorry, no mailbox here by that name. (#5.1.1)").And.NotContain("c@x.test");
        var status = report[1].Should().BeOfType<MessageDeliveryStatus>().Subject;
        // MimeKit reads the blank line that ends the part as an empty group
        status.StatusGroups.Where(g => g.Count > 0).Should().HaveCount(2, "the per-message fields and a@x.test: NOTIFY=NEVER is not reported");
        status.StatusGroups[0]["Reporting-MTA"].Should().Be("dns; mail.x.test");
        status.StatusGroups[0]["Original-Envelope-Id"].Should().Be("env+42", "xtext decoded");
        status.StatusGroups[0]["Arrival-Date"].Should().NotBeNullOrEmpty();
        var a = status.StatusGroups[1];
        a["Original-Recipient"].Should().Be("rfc822;A+x@x.test");
        a["Final-Recipient"].Should().Be("rfc822; a@x.test");
        a["Action"].Should().Be("failed");
        a["Status"].Should().Be("5.1.1");
        a["Diagnostic-Code"].Should().Be("x-qmail; Sorry, no mailbox here by that name. (#5.1.1)");
        var headers = report[2].Should().BeOfType<TextRfc822Headers>().Subject;
        headers.Message.Subject.Should().Be("hello");
        Encoding.UTF8.GetString(Bytes(headers)).Should().NotContain("the body line");
    }

    [Fact]
    public void A_failure_report_without_RET_returns_the_whole_message_and_reads_the_remote_peer_s_answer()
    {
        var dsn = Request("ENVID=e1", ("r@y.test", "ORCPT=rfc822;r@y.test"));
        var m = Build(dsn, "<r@y.test>:\n192.0.2.7 does not like recipient.\nRemote host said: 550 5.1.2 no such domain\nGiving up on 192.0.2.7.\n\n", false);
        var report = (MultipartReport)m.Body;
        var r = ((MessageDeliveryStatus)report[1]).StatusGroups[1];
        r["Status"].Should().Be("5.1.2");
        r["Remote-MTA"].Should().Be("dns; 192.0.2.7");
        r["Diagnostic-Code"].Should().Be("smtp; 550 5.1.2 no such domain");
        var returned = report[2].Should().BeOfType<MessagePart>().Subject;
        returned.ContentType.MimeType.Should().Be("message/rfc822");
        returned.Message.TextBody.Should().Contain("the body line");
    }

    [Fact]
    public void A_success_report_names_only_those_who_asked_for_it_with_headers_only()
    {
        var dsn = Request("", ("a@x.test", "NOTIFY=SUCCESS"), ("b@x.test", "NOTIFY=FAILURE"));
        var m = Build(dsn, "<a@x.test>:\ndid 1+0+0/\n\n<b@x.test>:\ndid 1+0+0/\n\n", success: true);
        var report = (MultipartReport)m.Body;
        var groups = ((MessageDeliveryStatus)report[1]).StatusGroups;
        groups.Where(g => g.Count > 0).Should().HaveCount(2);
        groups[1]["Final-Recipient"].Should().Be("rfc822; a@x.test");
        groups[1]["Action"].Should().Be("delivered");
        groups[1]["Status"].Should().Be("2.0.0");
        groups[0]["Original-Envelope-Id"].Should().BeNull();
        report[2].Should().BeOfType<TextRfc822Headers>("RFC 3461 §4.3: a success report returns the headers only");
    }

    [Fact]
    public void A_recipient_relayed_to_a_peer_without_DSN_is_reported_relayed_with_the_peer_as_remote_MTA()
    {
        var dsn = Request("", ("a@x.test", "NOTIFY=SUCCESS"), ("b@y.test", "NOTIFY=SUCCESS"));
        var relayed = Jsmail.Common.Remote.Report.Relayed("192.0.2.7") + "192.0.2.7 accepted message./Remote host said: 250 ok 1 qp 2/";
        var m = Build(dsn, $"<a@x.test>:\n{relayed}\n\n<b@y.test>:\ndid 1+0+0/\n\n", ReportKind.Success);
        var report = (MultipartReport)m.Body;
        var groups = ((MessageDeliveryStatus)report[1]).StatusGroups;
        groups[1]["Action"].Should().Be("relayed");
        groups[1]["Status"].Should().Be("2.0.0");
        groups[1]["Remote-MTA"].Should().Be("dns; 192.0.2.7");
        groups[1]["Diagnostic-Code"].Should().StartWith("smtp; 250 ok 1 qp 2");
        groups[2]["Action"].Should().Be("delivered", "a local delivery in the same report");
        ((TextPart)report[0]).Text.Should().Contain("does not report delivery");
        DeliveryText.IsRelayed(B("192.0.2.7 accepted message./Remote host said: 250 ok/")).Should().BeFalse("qmail-remote's K alone");
        DeliveryText.IsRelayed(B("Relayed to nowhere")).Should().BeFalse("only jsmail-remote's whole notice counts");
    }

    [Fact]
    public void A_delay_warning_names_recipients_asking_DELAY_or_nothing_with_the_deferral_s_status_and_headers_only()
    {
        var dsn = Request("RET=FULL", ("a@x.test", "NOTIFY=DELAY,FAILURE"), ("b@x.test", ""), ("c@x.test", "NOTIFY=FAILURE"), ("d@x.test", "NOTIFY=NEVER"));
        dsn.For(B("b@x.test")).WantsDelay.Should().BeTrue("no NOTIFY: FAILURE,DELAY (RFC 3461 §4.1)");
        var file = "<a@x.test>:\nConnected to 192.0.2.7 but greeting failed.\nRemote host said: 421 4.3.2 busy\n\n" +
                   "<b@x.test>:\ntemporary failure\n\n<c@x.test>:\nlater\n\n<d@x.test>:\nlater\n\n";
        var m = Build(dsn, file, ReportKind.Delay);
        m.Subject.Should().Be("Delayed Mail (still being retried)");
        var report = (MultipartReport)m.Body;
        var groups = ((MessageDeliveryStatus)report[1]).StatusGroups.Where(g => g.Count > 0).ToList();
        groups.Should().HaveCount(3, "the per-message fields, a and b");
        groups[1]["Action"].Should().Be("delayed");
        groups[1]["Status"].Should().Be("4.3.2");
        groups[1]["Remote-MTA"].Should().Be("dns; 192.0.2.7");
        MimeKit.Utils.DateUtils.TryParse(groups[1]["Will-Retry-Until"], out var until).Should().BeTrue();
        until.ToUnixTimeSeconds().Should().Be(1_796_399_000 + 604800, "arrival + queuelifetime");
        groups[2]["Final-Recipient"].Should().Be("rfc822; b@x.test");
        groups[2]["Status"].Should().Be("4.0.0");
        report[2].Should().BeOfType<TextRfc822Headers>("a warning returns the headers only, even with RET=FULL");
        ((TextPart)report[0]).Text.Should().Contain("you need not send it again");
    }

    [Fact]
    public void A_failure_report_of_a_message_over_bouncemaxbytes_returns_its_headers_and_says_so()
    {
        var dsn = Request("RET=FULL", ("a@x.test", ""));
        var bounce = "<a@x.test>:\nno\n\n";
        var small = Build(dsn, bounce, ReportKind.Failure, maxReturnedBytes: Message.Length);
        ((MultipartReport)small.Body)[2].Should().BeOfType<MessagePart>("at the limit the whole message goes back");
        var big = (MultipartReport)Build(dsn, bounce, ReportKind.Failure, maxReturnedBytes: Message.Length - 1).Body;
        big[2].Should().BeOfType<TextRfc822Headers>();
        ((TextPart)big[0]).Text.Should().Contain($"larger than {Message.Length - 1} bytes: only its header section is returned");
    }

    [Fact]
    public void A_REQUIRETLS_message_is_returned_as_its_headers_whatever_RET_says_and_the_text_says_why()
    {
        // RFC 8689 §5: as if RET=HDRS; RET=FULL disregarded; REQUIRETLS alone asks for no RFC 3464 report
        var dsn = Request("REQUIRETLS RET=FULL", ("a@x.test", ""));
        dsn.RequireTls.Should().BeTrue();
        dsn.HeadersOnly.Should().BeTrue();
        var report = (MultipartReport)Build(dsn, "<a@x.test>:\nno (#5.7.30)\n\n", ReportKind.Failure).Body;
        report[2].Should().BeOfType<TextRfc822Headers>();
        ((TextPart)report[0]).Text.Should().Contain(DeliveryReport.RequireTlsNote);
        Request("REQUIRETLS", ("a@x.test", "")).Asked.Should().BeFalse();
        Request("RET=FULL", ("a@x.test", "")).RequireTls.Should().BeFalse();
    }

    [Fact]
    public void Without_parameters_nothing_is_asked_and_a_failure_is_reported_by_default()
    {
        DsnRequest.None.Asked.Should().BeFalse();
        DsnRequest.None.For(B("x@y")).Wants(Notify.Failure).Should().BeTrue();
        DsnRequest.None.For(B("x@y")).Wants(Notify.Success).Should().BeFalse();
        Request("SIZE=10", ("a@x.test", "")).Asked.Should().BeFalse("SIZE is not a DSN parameter");
        DsnRequest.ParseNotify("never").Should().Be(Notify.Never);
        DsnRequest.ParseNotify("SUCCESS,DELAY").Should().Be(Notify.Success | Notify.Delay);
    }

    [Fact]
    public void Bounce_file_blocks_read_back_as_BounceText_wrote_them()
    {
        var file = BounceText.Block(B("a@x.test"), B("line one\n\nafter a blank\n"), new Jsmail.Common.Control.ControlMap([]))
            .Concat(BounceText.Block(B("b@y.test"), B("second"), new Jsmail.Common.Control.ControlMap([]))).ToArray();
        var blocks = ReportBlocks.Parse(file);
        blocks.Select(b => Encoding.UTF8.GetString(b.Address)).Should().Equal("a@x.test", "b@y.test");
        Encoding.UTF8.GetString(blocks[0].Text).Should().Be("line one\n/after a blank", "qmail makes each blank line a slash");
        Encoding.UTF8.GetString(blocks[1].Text).Should().Be("second");
    }

    private static byte[] Bytes(MimeEntity e)
    {
        using var o = new MemoryStream();
        e.WriteTo(o);
        return o.ToArray();
    }
}
