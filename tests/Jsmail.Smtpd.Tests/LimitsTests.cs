using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>RFC 9422 LIMITS: control/maxrcpt and control/maxmail, announced in the EHLO reply and applied.</summary>
public sealed class LimitsTests : IDisposable
{
    private readonly TempDir _home = new("jsmail-limits");

    public void Dispose() => _home.Dispose();

    private string Ehlo(bool compat = false, params (string Name, string Content)[] controls)
    {
        var s = Session(compat, controls);
        s.Command("EHLO c\r"u8);
        return Encoding.ASCII.GetString(s.Output.ToArray());
    }

    private SmtpSession Session(bool compat = false, params (string Name, string Content)[] controls)
    {
        Directory.CreateDirectory(_home["control"]);
        foreach (var f in Directory.GetFiles(_home["control"])) File.Delete(f);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        foreach (var (name, content) in controls) File.WriteAllText(_home["control/" + name], content);
        var settings = SmtpdSettings.Read(new ControlReader(_home.Path), _home.Path, compat, null);
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "client.example"u8.ToArray(), null, "mx.example"u8.ToArray(), null);
        return new SmtpSession(settings, client, () => null, () => 0);
    }

    [Fact]
    public void Ehlo_names_the_limits_that_are_set()
    {
        Ehlo().Should().EndWith("\r\n250 LIMITS RCPTMAX=100\r\n", "maxrcpt's default is a limit too");
        Ehlo(false, ("maxrcpt", "5\n"), ("maxmail", "2\n")).Should().EndWith("\r\n250 LIMITS RCPTMAX=5 MAILMAX=2\r\n");
        Ehlo(false, ("maxrcpt", "0\n"), ("maxmail", "3\n")).Should().EndWith("\r\n250 LIMITS MAILMAX=3\r\n");
        Ehlo(false, ("maxrcpt", "0\n")).Should().NotContain("LIMITS");
        Ehlo(false, ("maxmail", "3\n"), ("smtpdisable", "LIMITS\n")).Should().NotContain("LIMITS");
        Ehlo(true, ("maxmail", "3\n")).Should().NotContain("LIMITS");
    }

    [Fact]
    public void Mail_past_maxmail_gets_451_and_the_session_goes_on()
    {
        var s = Session(false, ("maxmail", "2\n"));
        foreach (var line in new[] { "EHLO c", "MAIL FROM:<a@x>", "RSET", "MAIL FROM:<b@x>", "RSET", "MAIL FROM:<c@x>", "NOOP" })
            s.Command(Encoding.ASCII.GetBytes(line + "\r"));
        Encoding.ASCII.GetString(s.Output.ToArray()).Should().EndWith(
            "250 2.1.0 ok\r\n250 2.0.0 flushed\r\n250 2.1.0 ok\r\n250 2.0.0 flushed\r\n451 4.5.3 too many messages in this session (#4.5.3)\r\n250 2.0.0 ok\r\n");
        // under compat the file is not read: qmail-smtpd has no such limit
        s = Session(true, ("maxmail", "1\n"));
        foreach (var line in new[] { "HELO c", "MAIL FROM:<a@x>", "RSET", "MAIL FROM:<b@x>" })
            s.Command(Encoding.ASCII.GetBytes(line + "\r"));
        Encoding.ASCII.GetString(s.Output.ToArray()).Should().EndWith("250 ok\r\n250 flushed\r\n250 ok\r\n");
    }

    [Theory, ForEachDriver]
    public void Both_drivers_announce_and_apply_maxmail(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("maxmail", "1\n");
        var r = h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nBDAT 12 LAST\r\nSubject: x\r\n" +
            "MAIL FROM:<s@x>\r\nQUIT\r\n");
        r.Out.Should().Contain("\r\n250 LIMITS RCPTMAX=100 MAILMAX=1\r\n");
        r.Out.Should().MatchRegex(@"250 2\.0\.0 ok \d+ qp \d+\r\n451 4\.5\.3 too many messages in this session \(#4\.5\.3\)\r\n221 2\.0\.0 mx\.example\r\n$");
        h.Queued().Should().ContainSingle();
    }
}
