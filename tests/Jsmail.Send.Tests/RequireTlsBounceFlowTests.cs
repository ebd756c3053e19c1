#nullable disable warnings
using System.Text;
using Jsmail.TestSupport;
using MimeKit;

namespace Jsmail.Send.Tests;

/// <summary>
/// RFC 8689 §5 in jsmail-send: the bounce of a message that came with
/// REQUIRETLS returns its header section only (RET=FULL disregarded), in
/// qmail's format and in an RFC 3464 report alike, and is queued with
/// REQUIRETLS on its own MAIL (its rparam/ file, as the test spawner saw it
/// when delivering the bounce). Under JSMAIL_COMPAT=qmail: qmail's bounce.
/// </summary>
public class RequireTlsBounceFlowTests
{
    private const string Secret = "the body nobody may read in the clear";

    private static byte[] WithExtension(byte[] envelope, string block) => [.. envelope, .. Encoding.Latin1.GetBytes(block)];

    /// <summary>A harness that keeps each delivered message's rparam/ file beside its copy.</summary>
    private static SendHarness Harness(bool compat = false)
    {
        var h = new SendHarness();
        var rparams = Path.Combine(h.Home.Path, "rparams");
        Directory.CreateDirectory(rparams);
        File.SetUnixFileMode(rparams, (UnixFileMode)0x1FF);
        if (compat) h.Environment["JSMAIL_COMPAT"] = "qmail";
        h.Start();
        return h;
    }

    /// <summary>The copy of the bounce to <paramref name="to"/> and the rparam/ file it was delivered with (null: none).</summary>
    private static (string Message, string Parameters) BounceTo(SendHarness h, string to)
    {
        SendHarness.WaitUntil(() => h.Copies().Any(c => c.Sender == "" && c.Recipient == to)).Should().BeTrue(h.Log);
        var copies = h.Copies();
        var at = copies.FindIndex(c => c.Sender == "" && c.Recipient == to);
        var rparam = Path.Combine(h.Home.Path, "rparams", at.ToString("D5"));
        return (copies[at].Message, File.Exists(rparam) ? File.ReadAllText(rparam, Encoding.Latin1) : null);
    }

    [Fact]
    public void A_REQUIRETLS_message_comes_back_as_its_header_in_qmails_bounce_which_asks_REQUIRETLS_too()
    {
        using var h = Harness();
        h.Queue(WithExtension(SendHarness.Envelope("s1@remote.example", "fail1@remote.example"), "X1\0MREQUIRETLS\0\0"),
            $"Subject: sealed one\n\n{Secret}\n");
        var (bounce, parameters) = BounceTo(h, "s1@remote.example");

        bounce.Should().Contain("Subject: failure notice\n")
            .And.Contain("<fail1@remote.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n")
            .And.Contain("--- Below this line is the header of the message. It required TLS (REQUIRETLS), so its body is not returned.\n\n" +
                         "Return-Path: <s1@remote.example>\n")
            .And.Contain("Subject: sealed one\n")
            .And.NotContain(Secret);
        parameters.Should().NotBeNull("the bounce was queued with an envelope extension").And.Contain("MREQUIRETLS\0");
    }

    [Fact]
    public void A_REQUIRETLS_message_with_RET_FULL_gets_a_report_with_its_header_only_which_asks_REQUIRETLS_too()
    {
        using var h = Harness();
        h.Queue(WithExtension(SendHarness.Envelope("s2@remote.example", "fail2@remote.example"), "X1\0MREQUIRETLS\0MRET=FULL\0MENVID=RT2\0\0"),
            $"Subject: sealed two\n\n{Secret}\n");
        var (bounce, parameters) = BounceTo(h, "s2@remote.example");

        var report = MimeMessage.Load(new MemoryStream(Encoding.Latin1.GetBytes(bounce)));
        report.Subject.Should().Be("Undelivered Mail Returned to Sender");
        var parts = (MultipartReport)report.Body;
        ((TextPart)parts[0]).Text.Should().Contain("Your message required TLS (REQUIRETLS): only its header section is returned below.");
        parts[2].Should().BeOfType<TextRfc822Headers>("RFC 8689 §5: as if RET=HDRS, RET=FULL disregarded")
            .Which.Message.Subject.Should().Be("sealed two");
        bounce.Should().Contain("RT2").And.NotContain(Secret);
        parameters.Should().NotBeNull().And.Contain("MREQUIRETLS\0");
    }

    [Fact]
    public void Without_REQUIRETLS_the_whole_message_comes_back_and_under_compat_REQUIRETLS_changes_nothing()
    {
        using (var h = Harness())
        {
            h.Queue(SendHarness.Envelope("s3@remote.example", "fail3@remote.example"), $"Subject: open\n\n{Secret}\n");
            var (bounce, parameters) = BounceTo(h, "s3@remote.example");
            bounce.Should().Contain("--- Below this line is a copy of the message.\n").And.Contain(Secret);
            parameters.Should().BeNull("a bounce of a message without parameters has none");
        }
        using (var h = Harness(compat: true))
        {
            h.Queue(WithExtension(SendHarness.Envelope("s4@remote.example", "fail4@remote.example"), "X1\0MREQUIRETLS\0\0"),
                $"Subject: sealed, compat\n\n{Secret}\n");
            var (bounce, parameters) = BounceTo(h, "s4@remote.example");
            bounce.Should().Contain("--- Below this line is a copy of the message.\n").And.Contain(Secret);
            parameters.Should().BeNull("qmail's bounce carries no parameters");
        }
    }
}
