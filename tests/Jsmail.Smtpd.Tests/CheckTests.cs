using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>Checks at HELO, MAIL and RCPT time: CDB tables, or a program on fd 3.</summary>
public sealed class CheckTests
{
    private static void Cdb(SmtpdHome h, string name, params string[] keys)
    {
        var input = string.Concat(keys.Select(k => $"+{Encoding.UTF8.GetByteCount(k)},0:{k}->\n")) + "\n";
        var r = Run.Process("cdb", ["-c", h.Home.Control(name)], Encoding.UTF8.GetBytes(input));
        r.ExitCode.Should().Be(0, r.Err);
    }

    [Theory, ForEachDriver]
    public void Tables_refuse_bad_helo_bad_sender_and_unknown_recipients_before_data(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        Cdb(h, "badhelo.cdb", "spammer.example");
        Cdb(h, "badmailfrom.cdb", "@bad.example", "exact@worse.example");
        Cdb(h, "validrcptto.cdb", "@example.com", "alice@example.com");
        var r = h.Talk(driver, "HELO Spammer.Example\r\nMAIL FROM:<a@b>\r\nHELO ok.example\r\nMAIL FROM:<x@BAD.example>\r\n" +
                       "MAIL FROM:<exact@worse.example>\r\nMAIL FROM:<fine@worse.example>\r\n" +
                       "RCPT TO:<bob@example.com>\r\nRCPT TO:<Alice@example.com>\r\nRCPT TO:<anyone@sub.example.com>\r\nQUIT\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n" +
                          "550 5.7.1 sorry, your HELO name is refused here (#5.7.1)\r\n" +
                          "550 5.7.1 sorry, your HELO name is refused here (#5.7.1)\r\n" +
                          "250 mx.example\r\n" +
                          "553 5.7.1 sorry, your envelope sender is refused here (#5.7.1)\r\n" +
                          "553 5.7.1 sorry, your envelope sender is refused here (#5.7.1)\r\n" +
                          "250 2.1.0 ok\r\n" +
                          "550 5.1.1 sorry, no mailbox here by that name (#5.1.1)\r\n" +
                          "250 2.1.5 ok\r\n250 2.1.5 ok\r\n221 2.0.0 mx.example\r\n");
    }

    [Theory, ForEachDriver]
    public void A_program_on_fd3_accepts_refuses_or_defers_with_its_text(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var dir = new TempDir();
        var log = dir["seen"];
        var prog = dir["check"];
        File.WriteAllText(prog, $$"""
#!/bin/sh
input=$(tr '\0' '|' <&3)
echo "$SMTPCHECK $input" >> {{log}}
case "$input" in
  *nobody@*) echo "no such user here"; exit 100 ;;
  *later@*) echo "4.2.2 mailbox full"; exit 111 ;;
  *crash@*) kill -9 $$ ;;
esac
exit 0
""");
        File.SetUnixFileMode(prog, (UnixFileMode)0x1ED);
        h.Home.WriteControl("smtpcheck", prog + "\n");
        var r = h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<later@example.com>\r\n" +
                       "RCPT TO:<crash@example.com>\r\nRCPT TO:<ok@example.com>\r\nQUIT\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 2.1.0 ok\r\n" +
                          "550 5.1.1 no such user here\r\n" +
                          "451 4.2.2 mailbox full\r\n" +
                          "451 4.3.0 temporary problem checking the address (#4.3.0)\r\n" +
                          "250 2.1.5 ok\r\n221 2.0.0 mx.example\r\n");
        File.ReadAllText(log).Should().Be("helo c.example||||\nmail c.example|s@x|||\n" +
                                          "rcpt c.example|s@x|nobody@example.com||\nrcpt c.example|s@x|later@example.com||\n" +
                                          "rcpt c.example|s@x|crash@example.com||\nrcpt c.example|s@x|ok@example.com||\n");
    }
}
