using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>Open-relay probes: without RELAYCLIENT or AUTH nothing addressed elsewhere is accepted.</summary>
public sealed class OpenRelayTests(OpenRelayTests.Home home) : IClassFixture<OpenRelayTests.Home>
{
    public sealed class Home : IDisposable
    {
        private readonly TempDir _dir = new("jsmail-relay");
        public SmtpdHome H { get; } = new("example.com\n");
        /// <summary>AUTH offered without TLS (control/smtpauthtls 0), so a pipe can drive it.</summary>
        public SmtpdHome Auth { get; } = new("example.com\n");
        public string[] AuthArgs { get; }

        public Home()
        {
            Auth.Home.WriteControl("smtpauthtls", "0\n");
            AuthArgs = ["mx.example", SmtpdHome.WriteCheckpassword(_dir["checkpassword"], _dir["fd3"]), "/bin/true"];
        }

        public void Dispose()
        {
            H.Dispose();
            Auth.Dispose();
            _dir.Dispose();
        }
    }

    private static readonly string GoodAuth = "AUTH PLAIN " + Convert.ToBase64String("\0alice\0open sesame"u8.ToArray()) + "\r\n";
    private static readonly string BadAuth = "AUTH PLAIN " + Convert.ToBase64String("\0alice\0guess"u8.ToArray()) + "\r\n";

    [Theory]
    [ForEachDriver("victim%other.net@other.org")]
    [ForEachDriver("victim@other.net")]
    [ForEachDriver("@example.com:victim@other.net")]
    [ForEachDriver("@example.com,@example.com:victim@other.net")]
    [ForEachDriver("\"victim@other.net\"@other.org")]
    [ForEachDriver("victim\\@other.net@other.org")]
    [ForEachDriver("other.net!victim@other.org")]
    [ForEachDriver("victim@[192.0.2.1]")]
    [ForEachDriver("victim@[127.0.0.1]")]
    [ForEachDriver("victim@example.com@other.net")]
    [ForEachDriver("victim@other.net.")]
    [ForEachDriver("victim@EXAMPLE.COM.other.net")]
    [ForEachDriver("victim@xexample.com")]
    public void Probes_relay_nothing(SmtpdDriver driver, string address)
    {
        foreach (var compat in new[] { false, true })
        {
            var r = home.H.Talk(driver, $"HELO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<{address}>\r\nQUIT\r\n", compat);
            r.Out.Should().Contain("553 ", $"{address} compat {compat}");
        }
        home.H.Queued().Should().BeEmpty();
    }

    [Theory]
    [ForEachDriver("victim%other.net@other.org")]
    [ForEachDriver("@example.com:victim@other.net")]
    [ForEachDriver("\"victim@other.net\"@other.org")]
    [ForEachDriver("other.net!victim@other.org")]
    [ForEachDriver("victim@[192.0.2.1]")]
    [ForEachDriver("victim@other.net")]
    public void Probes_relay_nothing_with_auth_offered_failed_or_cancelled_and_everything_after_auth(SmtpdDriver driver, string address)
    {
        var probe = $"MAIL FROM:<s@x>\r\nRCPT TO:<{address}>\r\nRSET\r\n";
        var r = home.Auth.Talk(driver, "EHLO x\r\n" + probe + BadAuth + probe + "AUTH LOGIN\r\n*\r\n" + probe + "QUIT\r\n", args: home.AuthArgs);
        r.Out.Split("\r\n").Count(l => l.StartsWith("553 5.7.1 sorry, that domain isn't in my list")).Should().Be(3, r.Out);
        r.Out.Should().NotContain("250 2.1.5");

        r = home.Auth.Talk(driver, "EHLO x\r\n" + GoodAuth + $"MAIL FROM:<s@x>\r\nRCPT TO:<{address}>\r\nQUIT\r\n", args: home.AuthArgs);
        r.Out.Should().Contain("235 2.7.0 authentication successful\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n");
        home.Auth.Queued().Should().BeEmpty();
    }

    [Theory]
    [ForEachDriver("victim%other.net@example.com")]
    [ForEachDriver("\"victim@other.net\"@example.com")]
    [ForEachDriver("other.net!victim@example.com")]
    public void Tricks_inside_our_own_domain_stay_local(SmtpdDriver driver, string address)
    {
        // accepted for example.com: qmail-send delivers them locally, it never forwards on them
        home.H.Talk(driver, $"MAIL FROM:<s@x>\r\nRCPT TO:<{address}>\r\n", compat: true).Out.Should().EndWith("250 ok\r\n");
    }

    [Theory, ForEachDriver]
    public void Without_rcpthosts_nobody_is_relayed_for_bcp30(SmtpdDriver driver)
    {
        using var h = new SmtpdHome(rcpthosts: null);
        foreach (var compat in new[] { false, true })
        {
            var r = h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<postmaster>\r\n", compat);
            r.Out.Should().Contain("553 ").And.EndWith("250 ok\r\n".Replace("250 ", compat ? "250 " : "250 2.1.5 "));
            r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle()
                .Which.Should().Contain("rcpthosts is missing").And.Contain("BCP 30");
        }
        h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\n", compat: true, new Dictionary<string, string?> { ["RELAYCLIENT"] = "" })
            .Out.Should().EndWith("250 ok\r\n250 ok\r\n");
    }
}
