using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>A message of the kind the real filters expect: every header a clean message has.</summary>
internal static class FilterMessages
{
    public static string Conversation(string from, string body) =>
        $"EHLO client.example\r\nMAIL FROM:<{from}>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n" +
        $"From: Sender <{from}>\r\nTo: <rcpt@example.com>\r\nSubject: a test\r\n  folded over two lines\r\n" +
        "Date: Thu, 03 Dec 2026 21:00:00 +0000\r\nMessage-ID: <milter-test@example.com>\r\nMIME-Version: 1.0\r\n" +
        $"Content-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n.\r\nQUIT\r\n";

    /// <summary>The reply to the final dot.</summary>
    public static string DotReply(RunResult r) => r.Out.Split("\r\n")[^3];
}

/// <summary>rspamd's proxy worker as a milter (no Redis): GTUBE refused in rspamd's words, a clean message queued with its headers.</summary>
public sealed class RspamdMilterTests(RspamdMilter rspamd) : IClassFixture<RspamdMilter>
{
    private const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    private SmtpdHome Home()
    {
        var h = new SmtpdHome();
        h.Home.WriteControl("milters", rspamd.Socket + " command_timeout=300 content_timeout=600\n");
        return h;
    }

    [Theory, ForEachDriver]
    public void Gtube_is_rejected_with_rspamds_reply(SmtpdDriver driver)
    {
        using var h = Home();
        var r = h.Talk(driver, FilterMessages.Conversation("sender@example.org", "This is spam.\r\n" + Gtube));
        FilterMessages.DotReply(r).Should().Be("554 5.7.1 Gtube pattern", rspamd.Log);
        h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void A_clean_message_is_queued_with_rspamds_headers(SmtpdDriver driver)
    {
        using var h = Home();
        var r = h.Talk(driver, FilterMessages.Conversation("sender@example.org", "Hello, this is an ordinary message."));
        FilterMessages.DotReply(r).Should().StartWith("250 2.0.0 ok ", rspamd.Log);
        var message = SmtpdHome.S(h.Queued().Single().Message);
        message.Should().Contain("\nX-Spamd-Result: default: False [").And.Contain("\nX-Rspamd-Server: ");
        message.Should().EndWith("\n\nHello, this is an ordinary message.\n");
    }
}

/// <summary>
/// OpenDKIM signing as a milter: the queued message's signature verifies with
/// python3-dkim against the test key, which it looks up through dnspython in
/// a test DNS server (dnsmasq) publishing it.
/// </summary>
public sealed class OpenDkimMilterTests(OpenDkimMilter opendkim) : IClassFixture<OpenDkimMilter>
{
    [Theory, ForEachDriver]
    public void The_queued_message_carries_a_signature_dkimverify_accepts(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("milters", opendkim.Socket + "\n");
        var r = h.Talk(driver, FilterMessages.Conversation("sender@example.com", "Signed by OpenDKIM.\r\nSecond line."));
        FilterMessages.DotReply(r).Should().StartWith("250 2.0.0 ok ", opendkim.Output);
        var message = h.Queued().Single().Message;
        SmtpdHome.S(message).Should().Contain("\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;");
        using (var dns = new DnsServer(DkimVerifier.TxtRecord(OpenDkimMilter.Record, opendkim.PublicKey)))
            DkimVerifier.VerifyThroughDns(message, dns.Port).Should().Be("pass " + OpenDkimMilter.Record);
        // The key really is the one DNS publishes: a server publishing another makes the same message fail.
        using (var other = new DnsServer(DkimVerifier.TxtRecord(OpenDkimMilter.Record, opendkim.OtherKey)))
            DkimVerifier.VerifyThroughDns(message, other.Port).Should().StartWith("fail ");
    }
}
