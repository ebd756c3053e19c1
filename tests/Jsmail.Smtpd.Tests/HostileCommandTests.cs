namespace Jsmail.Smtpd.Tests;

/// <summary>
/// Malformed and hostile commands in the standards mode, each with the reply
/// it gets; after each, a NOOP shows that the session carries on.
/// </summary>
public sealed class HostileCommandTests(HostileCommandTests.Home home) : IClassFixture<HostileCommandTests.Home>
{
    public sealed class Home : IDisposable
    {
        public SmtpdHome H { get; } = new();
        public Home() => H.Home.WriteControl("databytes", "10000\n");
        public void Dispose() => H.Dispose();
    }

    private const string Mail = "MAIL FROM:<s@x>\r\n";
    private const string MailUtf8 = "MAIL FROM:<s@x> SMTPUTF8\r\n";
    private const string MailRcpt = "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\n";
    private static readonly string Long = new('A', 2000);
    private static readonly string Addr900 = new string('x', 900) + "@example.com";

    private const string E501Mail = "501 5.5.4 syntax: MAIL FROM:<address> (#5.5.4)";
    private const string E501Rcpt = "501 5.5.4 syntax: RCPT TO:<address> (#5.5.4)";
    private const string E501Value = "501 5.5.4 bad parameter value (#5.5.4)";
    private const string E501Syntax = "501 5.5.4 parameter syntax error (#5.5.4)";
    private const string E501Twice = "501 5.5.4 parameter given twice (#5.5.4)";
    private const string E555Param = "555 5.5.4 parameter not recognized (#5.5.4)";
    private const string E502 = "502 5.5.1 unimplemented (#5.5.1)";
    private const string E553Relay = "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
    private const string E500Nul = "500 5.5.2 NUL in command refused (#5.5.2)";
    private const string E500Cr = "500 5.5.2 bare CR in command refused (#5.5.2)";
    private const string E553Utf8 = "553 5.6.7 non-ASCII address needs SMTPUTF8 (#5.6.7)";
    private const string Ok = "250 2.0.0 ok";
    private const string MailOk = "250 2.1.0 ok";
    private const string RcptOk = "250 2.1.5 ok";

    public static TheoryData<string, string, string> Cases => new()
    {
        { "", Long, "500 5.5.2 line too long (#5.5.2)" },
        { "", "MAIL FROM:<" + Long + ">", "500 5.5.2 line too long (#5.5.2)" },
        { Mail, "RCPT TO:<" + Long + "@example.com>", "500 5.5.2 line too long (#5.5.2)" },
        { "", "MAIL FROM:<" + Addr900 + ">", "555 5.5.4 syntax error (#5.5.4)" },
        { Mail, "RCPT TO:<" + Addr900 + ">", "555 5.5.4 syntax error (#5.5.4)" },
        { "", "NO\0OP", E500Nul },
        { "", "\0", E500Nul },
        { "", "MAIL FROM:<a\0b@x>", E500Nul },
        { Mail, "RCPT TO:<a@example.com>\0", E500Nul },
        { "", "MAIL FROM:<a\rb@x>", E500Cr },
        { Mail, "RCPT TO:<a@example.com>\r\r", E500Cr },
        { "", "HELO a\rb", E500Cr },
        { "", "\r", E500Cr },
        { "", "M\u00c3\u0081IL FROM:<a@b>", E502 },
        { "", "MAIL FROM:<\u00e9@x>", E553Utf8 },
        { "", "MAIL FROM:<\u00c3\u00a9@x>", E553Utf8 },
        { "", "MAIL FROM:<\u00c3\u00a9@x> SMTPUTF8", MailOk },
        { "", "MAIL FROM:<\u00ff\u00fe@x> SMTPUTF8", "553 5.6.7 address is not valid UTF-8 (#5.6.7)" },
        { Mail, "RCPT TO:<\u00c3\u00a9@example.com>", E553Utf8 },
        { MailUtf8, "RCPT TO:<\u00c3\u00a9@example.com>", RcptOk },
        { MailUtf8, "RCPT TO:<a@example.com> ORCPT=utf-8;\u00c3\u00a9@example.com", RcptOk },
        { Mail, "RCPT TO:<a@example.com> ORCPT=utf-8;\u00c3\u00a9@example.com", E501Value },
        { "", "MAIL a@b", E501Mail },
        { "", "MAIL FROM <a@b>", E501Mail },
        { "", "MAIL TO:<a@b>", E501Mail },
        { "", "MAIL FROM:<a@b", E501Mail },
        { "", "MAIL", E501Mail },
        { "", "mAiL fRoM:<a@b>", MailOk },
        { "", "MAIL FROM:a@b", MailOk },
        { "", "MAIL FROM:<>", MailOk },
        { "", "MAIL FROM:<a@b> SIZE=abc", E501Value },
        { "", "MAIL FROM:<a@b> SIZE=99999999999999999999999", E501Value },
        { "", "MAIL FROM:<a@b> SIZE=20000", "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)" },
        { "", "MAIL FROM:<a@b> SIZE=10000", MailOk },
        { "", "MAIL FROM:<a@b> FOO", E555Param },
        { "", "MAIL FROM:<a@b> AUTH=<>", E555Param },
        { "", "MAIL FROM:<a@b> NOTIFY=NEVER", E555Param },
        { "", "MAIL FROM:<a@b> BODY=BINARYMIME", MailOk }, // RFC 3030; only BDAT may then carry the message
        { "", "MAIL FROM:<a@b> BODY=BINARY", E501Value },
        { "", "MAIL FROM:<a@b> BODY", E501Value },
        { "", "MAIL FROM:<a@b> SIZE=1 SIZE=2", E501Twice },
        { "", "MAIL FROM:<a@b> RET=FULL ret=HDRS", E501Twice },
        { "", "MAIL FROM:<a@b> RET=NONE", E501Value },
        { "", "MAIL FROM:<a@b> ENVID=a=b", E501Syntax },
        { "", "MAIL FROM:<a@b> ENVID=" + new string('e', 101), E501Value },
        { "", "MAIL FROM:<a@b> =x", E501Syntax },
        { "", "MAIL FROM:<a@b> \u000b", E501Syntax },
        { "", "MAIL FROM:<a@b> SMTPUTF8 BODY=8BITMIME SIZE=10 RET=HDRS ENVID=QQ+2B", MailOk },
        { Mail, "MAIL FROM:<b@c>", "503 5.5.1 MAIL already given, RSET first (#5.5.1)" },
        { "", "RCPT TO:<a@example.com>", "503 5.5.1 MAIL first (#5.5.1)" },
        { Mail, "RCPT TO <a@example.com>", E501Rcpt },
        { Mail, "RCPT TO:<a@example.com", E501Rcpt },
        { Mail, "RCPT TO:<>", E501Rcpt },
        { Mail, "RCPT FROM:<a@example.com>", E501Rcpt },
        { Mail, "RCPT TO:<a@example.com> NOTIFY=BOGUS", E501Value },
        { Mail, "RCPT TO:<a@example.com> NOTIFY=NEVER,DELAY", E501Value },
        { Mail, "RCPT TO:<a@example.com> ORCPT=rfc822", E501Value },
        { Mail, "RCPT TO:<a@example.com> SIZE=1", E555Param },
        { Mail, "RCPT TO:<a@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@example.com", RcptOk },
        { Mail, "RCPT TO:<a@other.com>", E553Relay },
        { Mail, "RCPT TO:<a@example.com.>", E553Relay },
        { Mail, "RCPT TO:<postmaster>", RcptOk },
        { "", "DATA", "503 5.5.1 MAIL first (#5.5.1)" },
        { Mail, "DATA", "503 5.5.1 RCPT first (#5.5.1)" },
        { "", "STARTTLS", E502 },
        { "", "STARTTLS\r\nSTARTTLS", E502 + "\r\n" + E502 },
        { "", "AUTH PLAIN AGFiYwBk", E502 },
        { "", "AUTH LOGIN", E502 },
        { "", "AUTH", E502 },
        { "", "AUTH \u0001\u0002garbage", E502 },
        { "", "EXPN root", E502 },
        { "", "TURN", E502 },
        { "", "ETRN example.com", E502 },
        { "", "BDAT 4 LAST\r\nab", "503 5.5.1 MAIL first (#5.5.1)" }, // the chunk "ab\r\n" is read and dropped; NOOP is the next command
        { "", "BDAT 2 FIRST", "501 5.5.4 syntax: BDAT size [LAST] (#5.5.4)" },
        { "", "", E502 },
        { "", "   ", E502 },
        { "", "\t", E502 },
        { "", "HELO", "250 mx.example" },
        { "", "VRFY root", "252 2.0.0 send some mail, i'll try my best" },
        { "", "HELP me", "214 2.0.0 notqmail home page: https://notqmail.org" },
        { "", "NOOP with arguments", Ok },
        { MailRcpt, "RSET junk", "250 2.0.0 flushed" },
    };

    [Theory]
    [ForEachDriverAndCase(nameof(Cases))]
    public void Each_gets_its_reply_and_the_session_survives(SmtpdDriver driver, string setup, string line, string reply)
    {
        var setupReplies = string.Concat(setup.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.StartsWith("MAIL") ? MailOk + "\r\n" : RcptOk + "\r\n"));
        var r = home.H.Talk(driver, "HELO x\r\n" + setup + line + "\r\nNOOP\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n" + setupReplies + reply + "\r\n" + Ok + "\r\n");
    }

    [Fact]
    public void Table_is_big_enough() => Cases.Count.Should().BeGreaterThanOrEqualTo(60);

    [Theory, ForEachDriver]
    public void Recipient_flood_stops_at_maxrcpt(SmtpdDriver driver)
    {
        var rcpts = string.Concat(Enumerable.Range(0, 101).Select(i => $"RCPT TO:<u{i}@example.com>\r\n"));
        var r = home.H.Talk(driver, "MAIL FROM:<s@x>\r\n" + rcpts + "NOOP\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n" + MailOk + "\r\n" + string.Concat(Enumerable.Repeat(RcptOk + "\r\n", 100)) +
                          "452 4.5.3 too many recipients (#4.5.3)\r\n" + Ok + "\r\n");
    }

    [Theory, ForEachDriver]
    public void An_endless_line_is_refused_once_and_the_session_goes_on(SmtpdDriver driver)
    {
        var r = home.H.Talk(driver, "NOOP " + new string('x', 300_000) + "\r\nNOOP\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n500 5.5.2 line too long (#5.5.2)\r\n" + Ok + "\r\n");
    }
}
