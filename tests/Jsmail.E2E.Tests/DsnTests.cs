#nullable disable warnings
using System.Text;
using Jsmail.TestSupport;
using MimeKit;

namespace Jsmail.E2E.Tests;

/// <summary>
/// Delivery status notifications end to end (RFC 3461/3464/6522): DSN
/// parameters given to jsmail-smtpd by a real SMTP client, kept through the
/// queue, honoured by jsmail-send after real local deliveries; the reports
/// read from the sender's Maildir by MimeKit and by mblaze's mshow; a remote
/// recipient relayed to a peer without DSN (smtp-sink -N) is reported "relayed".
/// swaks 20201014 (Debian 12) has no DSN options (they came in 20240103),
/// so the parameters are sent by Python's smtplib; swaks sends the plain one.
/// </summary>
public sealed class DsnTests : IDisposable
{
    private readonly LocalUsers _users = new();
    private readonly LocalUsers.User _alice, _bob;
    private readonly SupervisedMta _mta;
    private readonly SmtpSink _noDsnPeer = new(dsn: false);

    private const string Client = """
        import smtplib, sys
        port, sender, mailopts, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(), sys.argv[4]
        s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=60)
        s.ehlo()
        assert s.has_extn('dsn'), 'DSN not offered'
        code, msg = s.mail(sender, mailopts); assert code == 250, (code, msg)
        for r in sys.argv[5:]:
            address, _, opts = r.partition('|')
            code, msg = s.rcpt(address, opts.split()); assert code == 250, (code, msg)
        code, msg = s.data(('From: <%s>\r\nSubject: %s\r\n\r\nthe body of %s\r\n' % (sender, subject, subject)).encode()); assert code == 250, (code, msg)
        s.quit()
        """;

    public DsnTests()
    {
        var maildirmake = Repo.Program("jsmail-maildirmake");
        _alice = _users.Add("dsna", maildirmake);
        _bob = _users.Add("dsnb", maildirmake);
        _mta = new SupervisedMta(_noDsnPeer.Port, [_alice, _bob]);
        _mta.Start();
    }

    private static string At(string name) => name + "@" + SupervisedMta.LocalDomain;

    private void Submit(string subject, string mailOptions, params string[] recipients)
    {
        var r = Run.Process("/usr/bin/python3", ["-c", Client, _mta.SmtpPort.ToString(), At(_bob.Name), mailOptions, subject, .. recipients]);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
    }

    private List<string> BobFiles() =>
        new[] { "new", "cur" }.Select(d => Path.Combine(_bob.Maildir, d)).Where(Directory.Exists).SelectMany(Directory.EnumerateFiles).ToList();

    [Fact]
    public void Success_and_failure_reports_as_asked_none_for_NEVER_and_QSBMF_for_a_sender_who_asked_nothing()
    {
        var envid = "env-" + Guid.NewGuid().ToString("N")[..12];
        var asked = "asked-" + Guid.NewGuid().ToString("N");
        Submit(asked, $"RET=HDRS ENVID={envid}",
            $"{At(_alice.Name)}|NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{At(_alice.Name)}",
            $"{At("nosuchuser")}|NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+2Bnosuch@{SupervisedMta.LocalDomain}");
        Wait.Until(() => BobFiles().Count(f => File.ReadAllText(f).Contains(envid)) == 2, 60).Should().BeTrue(_mta.Log);
        _alice.Messages().Should().ContainSingle(m => m.Contains(asked));

        var reports = BobFiles().Where(f => File.ReadAllText(f).Contains(envid)).ToList();
        var parsed = reports.Select(f => (File: f, Message: MimeMessage.Load(f))).ToList();
        foreach (var (file, message) in parsed)
        {
            message.Headers["Auto-Submitted"].Should().Be("auto-replied");
            var report = message.Body.Should().BeOfType<MultipartReport>().Subject;
            report.ReportType.Should().Be("delivery-status");
            var status = report[1].Should().BeOfType<MessageDeliveryStatus>().Subject;
            status.StatusGroups[0]["Original-Envelope-Id"].Should().Be(envid);
            status.StatusGroups[0]["Reporting-MTA"].Should().Be("dns; mail.e2e.test");
            var headers = report[2].Should().BeOfType<TextRfc822Headers>("RET=HDRS").Subject;
            headers.Message.Subject.Should().Be(asked);

            // a real mail reader: the MIME tree, and the rendered text
            var tree = Run.Process("mshow", ["-t", file], env: new Dictionary<string, string?> { ["MBLAZE"] = _mta.Dir.Path });
            tree.ExitCode.Should().Be(0, tree.Err);
            tree.Out.Should().Contain("multipart/report").And.Contain("text/plain").And.Contain("message/delivery-status").And.Contain("text/rfc822-headers");
            var shown = Run.Process("mshow", [file], env: new Dictionary<string, string?> { ["MBLAZE"] = _mta.Dir.Path });
            shown.ExitCode.Should().Be(0, shown.Err);
            shown.Out.Should().Contain("This is the qmail-send program at mail.e2e.test")
                .And.Contain("--- 3: message/delivery-status").And.Contain("Original-Envelope-Id: " + envid)
                .And.Contain("Original-Recipient: rfc822;").And.Contain("Subject: " + asked);
        }
        // MimeKit reads the blank line that ends the part as an empty group
        var delivered = parsed.Select(p => ((MessageDeliveryStatus)((MultipartReport)p.Message.Body)[1]).StatusGroups.Where(g => g.Count > 0).ToList())
            .Single(g => g[1]["Action"] == "delivered");
        delivered.Should().HaveCount(2, "only alice was delivered");
        delivered[1]["Final-Recipient"].Should().Be("rfc822; " + At(_alice.Name));
        delivered[1]["Original-Recipient"].Should().Be("rfc822;" + At(_alice.Name));
        delivered[1]["Status"].Should().Be("2.0.0");
        var failed = parsed.Select(p => ((MessageDeliveryStatus)((MultipartReport)p.Message.Body)[1]).StatusGroups.Where(g => g.Count > 0).ToList())
            .Single(g => g[1]["Action"] == "failed");
        failed.Should().HaveCount(2, "only nosuchuser failed");
        failed[1]["Final-Recipient"].Should().Be("rfc822; " + At("nosuchuser"));
        failed[1]["Original-Recipient"].Should().Be($"rfc822;Orig+nosuch@{SupervisedMta.LocalDomain}", "ORCPT, xtext decoded");
        failed[1]["Status"].Should().Be("5.1.1");
        failed[1]["Diagnostic-Code"].Should().Contain("Sorry, no mailbox here by that name.");

        // NOTIFY=NEVER: no report. Then a sender who asked nothing: qmail's bounce.
        var never = "never-" + Guid.NewGuid().ToString("N");
        Submit(never, "", $"{At("nosuchuser")}|NOTIFY=NEVER");
        var plain = "plain-" + Guid.NewGuid().ToString("N");
        _mta.Swaks(At(_bob.Name), At("nobodyhere"), plain).ExitCode.Should().Be(0);
        Wait.Until(() => _bob.Messages().Any(m => m.Contains(plain)), 60).Should().BeTrue(_mta.Log);
        // every message has ended (a report for the NEVER message would have been queued before its end)
        Wait.Until(() => _mta.Home.Entries("info").Count == 0 && _mta.Home.Entries("todo").Count == 0, 60).Should().BeTrue(_mta.Log);
        _bob.Messages().Should().NotContain(m => m.Contains(never));
        var qsbmf = _bob.Messages().Single(m => m.Contains(plain));
        qsbmf.Should().Contain("Subject: failure notice\n").And.Contain("<nobodyhere@e2e.test>:\nSorry, no mailbox here by that name. (#5.1.1)")
            .And.Contain("--- Below this line is a copy of the message.").And.NotContain("multipart/report");
        _mta.Home.Entries("rparam").Should().BeEmpty("jsmail-send removes the parameters with the message");
    }

    [Fact]
    public void A_remote_recipient_taken_by_a_peer_without_DSN_is_reported_relayed()
    {
        var envid = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var subject = "relayed-" + Guid.NewGuid().ToString("N");
        Submit(subject, $"ENVID={envid}", $"sink@{SupervisedMta.RemoteDomain}|NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;sink@{SupervisedMta.RemoteDomain}");
        Wait.Until(() => BobFiles().Any(f => File.ReadAllText(f).Contains(envid)), 60).Should().BeTrue(_mta.Log);
        _noDsnPeer.Messages().Should().ContainSingle(m => m.Contains(subject));

        var report = MimeMessage.Load(BobFiles().Single(f => File.ReadAllText(f).Contains(envid)));
        report.Subject.Should().Be("Successful Mail Delivery Report");
        var groups = ((MessageDeliveryStatus)((MultipartReport)report.Body)[1]).StatusGroups.Where(g => g.Count > 0).ToList();
        groups.Should().HaveCount(2);
        groups[0]["Original-Envelope-Id"].Should().Be(envid);
        groups[1]["Final-Recipient"].Should().Be($"rfc822; sink@{SupervisedMta.RemoteDomain}");
        groups[1]["Original-Recipient"].Should().Be($"rfc822;sink@{SupervisedMta.RemoteDomain}");
        groups[1]["Action"].Should().Be("relayed");
        groups[1]["Status"].Should().Be("2.0.0");
        groups[1]["Remote-MTA"].Should().Be("dns; 127.0.0.1");
        groups[1]["Diagnostic-Code"].Should().StartWith("smtp; 250 ");
        ((MultipartReport)report.Body)[2].Should().BeOfType<TextRfc822Headers>().Which.Message.Subject.Should().Be(subject);
    }

    public void Dispose()
    {
        _mta.Dispose();
        _noDsnPeer.Dispose();
        _users.Dispose();
    }
}
