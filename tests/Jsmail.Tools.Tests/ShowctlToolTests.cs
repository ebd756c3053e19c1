using Jsmail.TestSupport;

namespace Jsmail.Tools.Tests;

/// <summary>jsmail-showctl over a home made by install.sh.</summary>
public class ShowctlToolTests
{
    private static string Ids(string[] names, string database) => string.Join(", ", names.Select(n =>
    {
        var r = Run.Process("getent", [database, n]);
        return r.ExitCode == 0 ? r.Out.Split(':')[2] : "?";
    }));

    [Fact]
    public void Prints_the_settings_and_every_control_file()
    {
        using var h = new ToolHome();
        h.Home.WriteControl("mystery", "x\n");
        h.Home.WriteControl("databytes", "1000\n");
        var qmail = new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = "qmail" };
        var r = h.Tool("qmail-showctl", env: qmail);
        r.ExitCode.Should().Be(0);
        r.Out.Should().StartWith(
            $"qmail home directory: {h.Home.Path}.\n" +
            "user-ext delimiter: -.\n" +
            "paternalism (in decimal): 2.\n" +
            "silent concurrency limit: 120.\n" +
            "subdirectory split: 23.\n" +
            $"user ids: {Ids(["alias", "qmaild", "qmaill", "root", "qmailp", "qmailq", "qmailr", "qmails"], "passwd")}.\n" +
            $"group ids: {Ids(["nofiles", "qmail"], "group")}.\n" +
            "\nbadmailfrom: (Default.) Any MAIL FROM is allowed.\n");
        r.Out.Should().Contain("\ndatabytes: SMTP DATA limit is 1000 bytes.\n");
        r.Out.Should().Contain("\nme: My name is me.example.\n");
        r.Out.Should().Contain("\nlocals: \nMessages for local.example are delivered locally.\n");
        r.Out.Should().Contain("\nmystery: I have no idea what this file does.\n");

        // without compat the missing-rcpthosts text tells what jsmail-smtpd does
        File.Delete(h.Home.Control("rcpthosts"));
        h.Tool("qmail-showctl", env: qmail).Out.Should().Contain("\nrcpthosts: (Default.) SMTP clients may send messages to any recipient.\n");
        var jsmail = h.Tool("qmail-showctl", env: new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = null });
        jsmail.Out.Should().Contain("relays for nobody (BCP 30)");
        jsmail.Out.Should().Contain("\nmaxrcpt: (Default.) SMTP recipients per message limit (0: none) is 100.\n");
        jsmail.Out.Should().Contain("\ntlsrptcontact: (Default.) TLS reports (jsmail-tlsrpt) give postmaster@ control/me as contact-info and come from it.\n");
    }

    [Fact]
    public void Without_a_control_directory_it_says_oops()
    {
        using var h = new ToolHome();
        Directory.Delete(Path.Combine(h.Home.Path, "control"), recursive: true);
        var r = h.Tool("qmail-showctl");
        r.ExitCode.Should().Be(111);
        r.Out.Should().EndWith("\nOops! Unable to chdir to control.\n");
    }
}
