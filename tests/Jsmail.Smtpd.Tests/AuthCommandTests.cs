using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// AUTH (RFC 4954) over a pipe: control/smtpauthtls 0 offers it without TLS, so
/// every exchange can be driven byte for byte. The checkpassword program is a
/// real one (a shell script reading fd 3). After each case a NOOP shows that
/// the session carries on.
/// </summary>
public sealed class AuthCommandTests(AuthCommandTests.Home home) : IClassFixture<AuthCommandTests.Home>
{
    public sealed class Home : IDisposable
    {
        private readonly TempDir _dir = new("jsmail-auth");
        public SmtpdHome H { get; } = new();
        public string[] Args { get; }
        public string Seen => _dir["fd3"];

        public Home()
        {
            H.Home.WriteControl("smtpauthtls", "0\n");
            Args = ["mx.example", SmtpdHome.WriteCheckpassword(_dir["checkpassword"], Seen), "/bin/true"];
        }

        public void Dispose()
        {
            H.Dispose();
            _dir.Dispose();
        }
    }

    internal const string Ehlo = "220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n" +
                                 "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-LIMITS RCPTMAX=100\r\n250 AUTH PLAIN LOGIN\r\n";

    private static string B64(string s) => Convert.ToBase64String(Encoding.Latin1.GetBytes(s));

    private static readonly string Good = B64("\0alice\0open sesame");
    private const string Ok = "250 2.0.0 ok";
    private const string AuthOk = "235 2.7.0 authentication successful";
    private const string Failed = "535 5.7.8 authentication failed (#5.7.8)";
    private const string Undecodable = "501 5.5.2 cannot decode response (#5.5.2)";
    private const string Cancelled = "501 5.0.0 authentication cancelled (#5.0.0)";
    private const string AuthSyntax = "501 5.5.4 syntax: AUTH mechanism [initial-response] (#5.5.4)";
    private const string User = "334 VXNlcm5hbWU6";
    private const string Password = "334 UGFzc3dvcmQ6";

    /// <summary>(lines sent after EHLO, every reply to them).</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "AUTH PLAIN " + Good, AuthOk },
        { "AUTH plain " + B64("alice\0alice\0open sesame"), AuthOk },
        { "AUTH PLAIN\r\n" + Good, "334 \r\n" + AuthOk },
        { "AUTH LOGIN\r\n" + B64("alice") + "\r\n" + B64("open sesame"), User + "\r\n" + Password + "\r\n" + AuthOk },
        { "AUTH LOGIN " + B64("alice") + "\r\n" + B64("open sesame"), Password + "\r\n" + AuthOk },
        { "AUTH PLAIN " + Good + "\r\nAUTH PLAIN " + Good, AuthOk + "\r\n503 5.5.1 already authenticated (#5.5.1)" },
        { "AUTH PLAIN " + Good + "\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>", AuthOk + "\r\n250 2.1.0 ok\r\n250 2.1.5 ok" },
        { "MAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>", "250 2.1.0 ok\r\n553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)" },
        { "MAIL FROM:<s@x>\r\nAUTH PLAIN " + Good, "250 2.1.0 ok\r\n503 5.5.1 AUTH not permitted during a mail transaction (#5.5.1)" },
        { "AUTH PLAIN " + B64("\0alice\0wrong"), Failed },
        { "AUTH PLAIN " + B64("bob\0alice\0open sesame"), Failed },
        { "AUTH PLAIN " + B64("\0alice"), Failed },
        { "AUTH PLAIN " + B64("alice open sesame"), Failed },
        { "AUTH PLAIN =", Failed },
        { "AUTH PLAIN " + B64("\0al\rice\0open sesame"), Failed },
        { "AUTH PLAIN " + B64("\0al\nice\0open sesame"), Failed },
        { "AUTH PLAIN " + B64("\0alice\0" + new string('p', 600)), Failed },
        { "AUTH LOGIN\r\n" + B64("al\0ice") + "\r\n" + B64("open sesame"), User + "\r\n" + Password + "\r\n" + Failed },
        { "AUTH LOGIN\r\n" + B64("alice") + "\r\n" + B64("open\0sesame"), User + "\r\n" + Password + "\r\n" + Failed },
        { "AUTH PLAIN !!!!", Undecodable },
        { "AUTH PLAIN ====", Undecodable },
        { "AUTH PLAIN AGFsaWNlAG9wZW4gc2VzYW1l=", Undecodable },
        { "AUTH PLAIN AGFsaWNl\u00e9", Undecodable },
        { "AUTH PLAIN\r\nAGFs aWNl", "334 \r\n" + Undecodable },
        { "AUTH LOGIN\r\n\u0001\u0002garbage", User + "\r\n" + Undecodable },
        { "AUTH PLAIN\r\n*", "334 \r\n" + Cancelled },
        { "AUTH LOGIN\r\n*", User + "\r\n" + Cancelled },
        { "AUTH LOGIN\r\n" + B64("alice") + "\r\n*", User + "\r\n" + Password + "\r\n" + Cancelled },
        { "AUTH PLAIN\r\nNOOP", "334 \r\n" + Failed }, // a command inside the exchange is a response: NOOP is base64
        { "AUTH PLAIN\r\n" + new string('A', 3000), "334 \r\n500 5.5.6 authentication exchange line is too long (#5.5.6)" },
        { "AUTH PLAIN " + new string('A', 3000), "500 5.5.2 line too long (#5.5.2)" },
        { "AUTH", AuthSyntax },
        { "AUTH PLAIN a b", AuthSyntax },
        { "AUTH PLAIN ", AuthSyntax },
        { "AUTH CRAM-MD5", "504 5.5.4 unrecognized authentication type (#5.5.4)" },
        { "AUTH \u0001\u0002garbage", "504 5.5.4 unrecognized authentication type (#5.5.4)" },
        { "STARTTLS", "502 5.5.1 unimplemented (#5.5.1)" },
        { "MAIL FROM:<s@x> AUTH=<>", "250 2.1.0 ok" },
        { "MAIL FROM:<s@x> AUTH=alice+40example.com SIZE=10", "250 2.1.0 ok" },
        { "MAIL FROM:<s@x> AUTH=a AUTH=b", "501 5.5.4 parameter given twice (#5.5.4)" },
        { "MAIL FROM:<s@x> AUTH=a=b", "501 5.5.4 bad parameter value (#5.5.4)" },
    };

    [Theory]
    [ForEachDriverAndCase(nameof(Cases))]
    public void Each_gets_its_replies_and_the_session_survives(SmtpdDriver driver, string lines, string replies)
    {
        var r = home.H.Talk(driver, "EHLO x\r\n" + lines + "\r\nNOOP\r\n", args: home.Args);
        r.Out.Should().Be(Ehlo + replies + "\r\n" + Ok + "\r\n");
        r.Err.Should().NotContain("open sesame").And.NotContain("wrong");
    }

    [Theory, ForEachDriver]
    public void Checkpassword_gets_user_password_and_timestamp_on_fd3(SmtpdDriver driver)
    {
        var r = home.H.Talk(driver, "EHLO x\r\nAUTH PLAIN " + Good + "\r\nQUIT\r\n", args: home.Args);
        r.Out.Should().Contain(AuthOk);
        var seen = Encoding.Latin1.GetString(File.ReadAllBytes(home.Seen));
        seen.Should().MatchRegex("^alice\0open sesame\0<\\d+\\.\\d+@mx\\.example>\0$");
        r.Err.Should().Contain("authenticated as alice").And.NotContain("sesame");
    }

    [Theory, ForEachDriver]
    public void Auth_before_ehlo_is_out_of_sequence(SmtpdDriver driver)
    {
        home.H.Talk(driver, "AUTH PLAIN " + Good + "\r\nHELO x\r\nAUTH PLAIN " + Good + "\r\n", args: home.Args).Out
            .Should().Be("220 mx.example ESMTP\r\n503 5.5.1 EHLO first (#5.5.1)\r\n250 mx.example\r\n503 5.5.1 EHLO first (#5.5.1)\r\n");
    }

    [Theory, ForEachDriver]
    public void Third_failure_makes_the_next_auth_close_the_connection(SmtpdDriver driver)
    {
        var bad = "AUTH PLAIN " + B64("\0alice\0wrong") + "\r\n";
        var r = home.H.Talk(driver, "EHLO x\r\n" + bad + bad + bad + "AUTH PLAIN " + Good + "\r\nNOOP\r\n", args: home.Args);
        r.Out.Should().Be(Ehlo + Failed + "\r\n" + Failed + "\r\n" + Failed + "\r\n" +
                          "421 4.7.0 too many failed authentications, closing (#4.7.0)\r\n");
        r.ExitCode.Should().Be(1);
    }

    [Theory, ForEachDriver]
    public void A_temporary_checkpassword_failure_is_454(SmtpdDriver driver)
    {
        using var dir = new TempDir("jsmail-auth111");
        var script = dir["cp"];
        File.WriteAllText(script, "#!/bin/sh\ncat <&3 >/dev/null\nexit 111\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ED);
        home.H.Talk(driver, "EHLO x\r\nAUTH PLAIN " + Good + "\r\n", args: ["mx.example", script, "/bin/true"]).Out
            .Should().Be(Ehlo + "454 4.7.0 temporary authentication failure (#4.7.0)\r\n");
    }

    [Theory, ForEachDriver]
    public void By_default_auth_needs_tls_first(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, "EHLO x\r\nAUTH PLAIN " + Good + "\r\n", args: home.Args);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n" +
                          "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 LIMITS RCPTMAX=100\r\n" +
                          "538 5.7.11 encryption required for requested authentication mechanism (#5.7.11)\r\n");
    }

    [Theory, ForEachDriver]
    public void Smtpdisable_auth_switches_it_off(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("smtpauthtls", "0\n");
        h.Home.WriteControl("smtpdisable", "AUTH\n");
        h.Talk(driver, "EHLO x\r\nAUTH PLAIN " + Good + "\r\n", args: home.Args).Out
            .Should().EndWith("250 LIMITS RCPTMAX=100\r\n502 5.5.1 unimplemented (#5.5.1)\r\n");
    }

    [Theory, ForEachDriver]
    public void Submission_needs_auth_before_mail_and_relays_after_it(SmtpdDriver driver)
    {
        var env = new Dictionary<string, string?> { ["SUBMISSION"] = "1", ["RELAYCLIENT"] = "" };
        var r = home.H.Talk(driver, "EHLO x\r\nMAIL FROM:<s@x>\r\nAUTH PLAIN " + Good + "\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\n",
            env: env, args: home.Args);
        r.Out.Should().Be(Ehlo + "530 5.7.0 authentication required (#5.7.0)\r\n" + AuthOk + "\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n");
        home.H.Talk(driver, "EHLO x\r\nMAIL FROM:<s@x>\r\n", env: new Dictionary<string, string?> { ["SUBMISSION"] = "0" }, args: home.Args)
            .Out.Should().EndWith("250 2.1.0 ok\r\n");
    }
}
