#nullable disable warnings
using System.Text;
using Jsmail.TestSupport;
using MimeKit;

namespace Jsmail.E2E.Tests;

/// <summary>
/// RFC 8689 §5 end to end: a message sent to jsmail-smtpd under STARTTLS with
/// REQUIRETLS (Python's smtplib) for a remote peer that cannot give it
/// (Postfix's smtp-sink: no TLS) is returned, and the bounce in the sender's
/// Maildir holds the message's header section and not its body, in qmail's
/// format for a sender who asked no DSN and as an RFC 3464 report (read by
/// MimeKit) for one who asked RET=FULL, which REQUIRETLS overrides.
/// </summary>
public sealed class RequireTlsBounceTests : IDisposable
{
    private const string Secret = "a body that must not travel in the clear";

    private readonly LocalUsers _users = new();
    private readonly LocalUsers.User _sender;
    private readonly SupervisedMta _mta;
    private readonly SmtpSink _peer = new();
    private readonly TempDir _dir = new("jsmail-e2e-requiretls");

    private const string Client = """
        import smtplib, ssl, sys
        port, sender, mailopts, subject, body, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5], sys.argv[6]
        s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=60)
        s.ehlo()
        assert not s.has_extn('requiretls'), 'REQUIRETLS offered outside TLS'
        s.starttls(context=ssl._create_unverified_context())
        s.ehlo()
        assert s.has_extn('requiretls'), 'REQUIRETLS not offered under TLS'
        code, msg = s.mail(sender, mailopts); assert code == 250, (code, msg)
        code, msg = s.rcpt(rcpt); assert code == 250, (code, msg)
        code, msg = s.data(('From: <%s>\r\nSubject: %s\r\n\r\n%s\r\n' % (sender, subject, body)).encode()); assert code == 250, (code, msg)
        s.quit()
        """;

    public RequireTlsBounceTests()
    {
        _sender = _users.Add("rtls", Repo.Program("jsmail-maildirmake"));
        _mta = new SupervisedMta(_peer.Port, [_sender]);
        var made = Run.Shell("""
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mail.e2e.test" -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
            """, args: _dir.Path);
        made.ExitCode.Should().Be(0, made.Err);
        _mta.Home.WriteControl("servercert.pem", File.ReadAllText(_dir["cert.pem"]) + File.ReadAllText(_dir["key.pem"]));
        _mta.Start();
    }

    private void Submit(string mailOptions, string subject)
    {
        var r = Run.Process("/usr/bin/python3", ["-c", Client, _mta.SmtpPort.ToString(), _sender.Name + "@" + SupervisedMta.LocalDomain,
            mailOptions, subject, Secret, "sink@" + SupervisedMta.RemoteDomain], timeoutMs: 90_000);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
    }

    private string BounceOf(string subject)
    {
        Wait.Until(() => _sender.Messages().Any(m => m.Contains(subject)), 90).Should().BeTrue(_mta.Log);
        return _sender.Messages().Single(m => m.Contains(subject));
    }

    [Fact]
    public void A_REQUIRETLS_message_the_peer_cannot_take_comes_back_as_its_header_only()
    {
        var plain = "sealed-" + Guid.NewGuid().ToString("N");
        Submit("REQUIRETLS", plain);
        var qsbmf = BounceOf(plain);
        qsbmf.Should().Contain("Subject: failure notice\n")
            .And.Contain($"<sink@{SupervisedMta.RemoteDomain}>:\n")
            .And.Contain("(REQUIRETLS)")
            .And.Contain("--- Below this line is the header of the message. It required TLS (REQUIRETLS), so its body is not returned.\n")
            .And.Contain("Subject: " + plain + "\n")
            .And.NotContain(Secret);

        var asked = "sealed-dsn-" + Guid.NewGuid().ToString("N");
        Submit("REQUIRETLS RET=FULL ENVID=rtls-e2e", asked);
        var dsn = BounceOf(asked);
        dsn.Should().NotContain(Secret);
        var report = MimeMessage.Load(new MemoryStream(Encoding.Latin1.GetBytes(dsn)));
        report.Subject.Should().Be("Undelivered Mail Returned to Sender");
        var parts = (MultipartReport)report.Body;
        ((TextPart)parts[0]).Text.Should().Contain("Your message required TLS (REQUIRETLS): only its header section is returned below.");
        var status = ((MessageDeliveryStatus)parts[1]).StatusGroups.Where(g => g.Count > 0).ToList();
        status[0]["Original-Envelope-Id"].Should().Be("rtls-e2e");
        status[1]["Status"].Should().StartWith("5.7.");
        parts[2].Should().BeOfType<TextRfc822Headers>("RET=FULL is disregarded for a REQUIRETLS message")
            .Which.Message.Subject.Should().Be(asked);

        _peer.Messages().Should().NotContain(m => m.Contains(Secret), "the peer without TLS got neither message");
    }

    public void Dispose()
    {
        _mta.Dispose();
        _peer.Dispose();
        _users.Dispose();
        _dir.Dispose();
    }
}
