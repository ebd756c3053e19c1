using System.Text;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// SMTP smuggling: an end of data that only some software sees must never end
/// DATA here, and what follows it must never become a second message.
/// </summary>
public sealed class SmugglingTests
{
    private const string Head = "HELO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: one\r\n\r\nfirst";
    private const string Smuggled = "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: two\r\n\r\nsmuggled\r\n.\r\n";

    private const string Lf = "451 See https://cr.yp.to/docs/smtplf.html.\r\n";
    private const string LfEnhanced = "451 4.6.0 See https://cr.yp.to/docs/smtplf.html.\r\n";
    private const string Cr = "451 4.6.0 bare CR in message refused, see RFC 5321 section 2.3.8 (#4.6.0)\r\n";

    /// <param name="strictCr">standards mode: refused as a bare CR (else as a bare LF)</param>
    /// <param name="compatKeeps">JSMAIL_COMPAT=qmail keeps the bare CRs as data: one message, the smuggled text inside</param>
    [Theory]
    [ForEachDriver("\n.\n", false, false)]
    [ForEachDriver("\r.\r", true, true)]
    [ForEachDriver("\n.\r\n", false, false)]
    [ForEachDriver("\r\n.\n", false, false)]
    [ForEachDriver("\r.\r\n", true, true)]
    [ForEachDriver("\r\n.\r", true, true)]
    [ForEachDriver("\n", false, false)]
    [ForEachDriver("\r", true, true)]
    [ForEachDriver("\r\n.\r\r\n", true, true)]
    public void Vectors_never_end_data(SmtpdDriver driver, string vector, bool strictCr, bool compatKeeps)
    {
        foreach (var compat in new[] { false, true })
        {
            using var h = new SmtpdHome();
            var r = h.Talk(driver, Head + vector + Smuggled + "QUIT\r\n", compat);
            var queued = h.Queued();
            queued.Should().NotContain(q => SmtpdHome.S(q.Todo).Contains("evil@x"));
            if (compat && compatKeeps)
            {
                queued.Should().ContainSingle();
                SmtpdHome.S(queued[0].Message).Should().Contain("smuggled");
                r.Out.Should().MatchRegex("354 go ahead\r\n250 ok \\d+ qp \\d+\r\n221 mx.example\r\n$");
                continue;
            }
            queued.Should().BeEmpty();
            r.ExitCode.Should().Be(1);
            r.Out.Should().EndWith("354 go ahead\r\n" + (compat ? Lf : strictCr ? Cr : LfEnhanced));
        }
    }

    [Theory, ForEachDriver]
    public void A_message_streams_without_being_held_whole(SmtpdDriver driver)
    {
        // 5 MB through a pipe: smtpd never needs the message in memory to queue it.
        using var h = new SmtpdHome();
        var line = new string('x', 998) + "\r\n";
        var sb = new StringBuilder(Head + "\r\n");
        for (var i = 0; i < 5_000; i++) sb.Append(line);
        sb.Append(".\r\nQUIT\r\n");
        var r = h.Talk(driver, sb.ToString());
        r.Out.Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        SmtpdHome.Body(h.Queued().Single().Message).Length.Should().Be("Subject: one\n\nfirst\n".Length + 5_000 * 999);
    }
}
