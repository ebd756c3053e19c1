using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>qmail-interfaces §16 items 37–44, byte for byte, with JSMAIL_COMPAT=qmail.</summary>
public sealed class QmailCompatTests : IDisposable
{
    private readonly SmtpdHome _h = new();

    [Theory, ForEachDriver]
    public void Item37_greeting_ehlo_and_help(SmtpdDriver driver)
    {
        var r = _h.Talk(driver, "EHLO client.example\r\nHELP\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n" +
                          "214 notqmail home page: https://notqmail.org\r\n221 mx.example\r\n");
        r.ExitCode.Should().Be(0);
    }

    [Theory, ForEachDriver]
    public void Item37_smtpgreeting_replaces_me(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("smtpgreeting", "greeting.example hello\n");
        h.Talk(driver, "HELO x\r\nQUIT\r\n", compat: true).Out.Should()
            .Be("220 greeting.example hello ESMTP\r\n250 greeting.example hello\r\n221 greeting.example hello\r\n");
    }

    [Theory, ForEachDriver]
    public void Item38_sequence_errors_unknown_verbs_case_and_optional_cr(SmtpdDriver driver)
    {
        var r = _h.Talk(driver, "rcpt to:<a@example.com>\r\nmail from:<s@x>\r\ndata\nxyzzy\r\nNoOp\nVRFY a\r\nrSeT\r\nDATA\r\nquit\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n503 RCPT first (#5.5.1)\r\n" +
                          "502 unimplemented (#5.5.1)\r\n250 ok\r\n252 send some mail, i'll try my best\r\n" +
                          "250 flushed\r\n503 MAIL first (#5.5.1)\r\n221 mx.example\r\n");
    }

    [Theory, ForEachDriver]
    public void Item39_rcpthosts_and_relayclient(SmtpdDriver driver)
    {
        const string deny = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n";
        _h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<a@x.example.com>\r\nRCPT TO:<a@other.com>\r\nRCPT TO:<a@EXAMPLE.COM>\r\nQUIT\r\n", compat: true)
            .Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n250 ok\r\n" + deny + "250 ok\r\n221 mx.example\r\n");
        _h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nQUIT\r\n", compat: true, new Dictionary<string, string?> { ["RELAYCLIENT"] = "" })
            .Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n221 mx.example\r\n");

        using var h = new SmtpdHome();
        var r = h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<u>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n", compat: true,
            new Dictionary<string, string?> { ["RELAYCLIENT"] = "@x" });
        r.Out.Should().StartWith("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok ");
        SmtpdHome.S(h.Queued().Single().Todo).Should().EndWith("\0Fs@x\0Tu@x\0");
    }

    [Theory, ForEachDriver]
    public void Item40_badmailfrom_refuses_every_rcpt_of_the_transaction(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("badmailfrom", "@spam.example\nexact@bad.example\n");
        const string bmf = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n";
        h.Talk(driver, "MAIL FROM:<x@SPAM.example>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nMAIL FROM:<exact@bad.example>\r\nRCPT TO:<a@example.com>\r\nMAIL FROM:<ok@bad.example>\r\nRCPT TO:<a@example.com>\r\n", compat: true)
            .Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n" + bmf + bmf + "250 ok\r\n" + bmf + "250 ok\r\n250 ok\r\n");
    }

    [Theory, ForEachDriver]
    public void Item41_bare_lf_closes_unstuffing_and_crlf(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nline one\nline two\r\n.\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n451 See https://cr.yp.to/docs/smtplf.html.\r\n");
        r.ExitCode.Should().Be(1);
        h.Queued().Should().BeEmpty();

        r = h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: x\r\n\r\n..leading dot\r\n.\r\n", compat: true);
        r.Out.Should().MatchRegex("354 go ahead\r\n250 ok \\d+ qp \\d+\r\n$");
        SmtpdHome.Body(h.Queued().Single().Message).Should().Be("Subject: x\n\n.leading dot\n");
    }

    [Theory, ForEachDriver]
    public void Item42_databytes_and_hops(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("databytes", "10\n");
        var head = "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n";
        h.Talk(driver, head + "0123456789\r\n.\r\n", compat: true).Out.Should()
            .EndWith("354 go ahead\r\n552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
        h.Talk(driver, head + "012345678\r\n.\r\n", compat: true).Out.Should().MatchRegex("354 go ahead\r\n250 ok \\d+ qp \\d+\r\n$");
        h.Queued().Should().HaveCount(1);

        h.Home.WriteControl("databytes", "0\n");
        var hops = string.Concat(Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? "Received: x\r\n" : "delivered-to: y\r\n"));
        h.Talk(driver, head + hops + "\r\nbody\r\n.\r\n", compat: true).Out.Should()
            .EndWith("354 go ahead\r\n554 too many hops, this message is looping (#5.4.6)\r\n");
        var fewer = string.Concat(Enumerable.Repeat("Received: x\r\n", 99));
        h.Talk(driver, head + fewer + "\r\n" + hops + ".\r\n", compat: true).Out.Should().MatchRegex("250 ok \\d+ qp \\d+\r\n$");
        h.Queued().Should().HaveCount(2);
    }

    [Theory, ForEachDriver]
    public void Item42_databytes_from_the_environment_overrides_the_control(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("databytes", "1000\n");
        h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n0123456789\r\n.\r\n", compat: true,
                new Dictionary<string, string?> { ["DATABYTES"] = "5" })
            .Out.Should().EndWith("552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
    }

    [Theory, ForEachDriver]
    public void Item43_accept_reply_names_the_queue_pid_and_received_lines(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var r = h.Talk(driver, "HELO client.example\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n",
            compat: true, new Dictionary<string, string?> { ["TCPREMOTEHOST"] = "host.example", ["TCPREMOTEINFO"] = "joe\r\nX: y" });
        var m = Regex.Match(r.Out, "250 ok (\\d+) qp (\\d+)\r\n");
        m.Success.Should().BeTrue(r.Out);
        long.Parse(m.Groups[1].Value).Should().BeInRange(before, before + 60);
        var (todo, message) = h.Queued().Single();
        SmtpdHome.S(todo).Should().Contain("\0p" + m.Groups[2].Value + "\0");
        var lines = SmtpdHome.S(message).Split('\n');
        lines[0].Should().StartWith("Received: (qmail " + m.Groups[2].Value + " invoked by uid ");
        lines[1].Should().Be("Received: from host.example (HELO client.example) (joe??X:?y@127.0.0.1)");
        lines[2].Should().MatchRegex("^  by mx.example with SMTP; \\d+ \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d -0000$");
        SmtpdHome.Body(message).Should().Be("Subject: x\n\nhello\n");
    }

    [Theory, ForEachDriver]
    public void Item43_helo_equal_to_the_remote_host_is_not_repeated(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Talk(driver, "HELO HOST.example\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n.\r\n", compat: true,
            new Dictionary<string, string?> { ["TCPREMOTEHOST"] = "host.example" });
        SmtpdHome.S(h.Queued().Single().Message).Split('\n')[1].Should().Be("Received: from host.example (127.0.0.1)");
    }

    [Theory]
    [ForEachDriver("printf 'Dno thanks' >&6; exit 82", "554 no thanks")]
    [ForEachDriver("printf 'Ztry later' >&6; exit 82", "451 try later")]
    [ForEachDriver("exit 31", "554 mail server permanently rejected message (#5.3.0)")]
    [ForEachDriver("exit 52", "451 qq timeout (#4.3.0)")]
    [ForEachDriver("printf 'D' >&6; exit 82", "451 qq temporary problem (#4.3.0)")]
    public void Item44_qmailqueue_filter_texts(SmtpdDriver driver, string script, string reply)
    {
        using var dir = new TempDir();
        var filter = dir["filter"];
        File.WriteAllText(filter, "#!/bin/sh\ncat >/dev/null; cat <&1 >/dev/null\n" + script + "\n");
        File.SetUnixFileMode(filter, (UnixFileMode)0x1ED);
        _h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n", compat: true,
                new Dictionary<string, string?> { ["QMAILQUEUE"] = filter })
            .Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n" + reply + "\r\n221 mx.example\r\n");
    }

    [Theory, ForEachDriver]
    public void Missing_me_and_smtpgreeting_is_421(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        File.Delete(h.Home.Control("me"));
        var r = h.Talk(driver, "QUIT\r\n", compat: true);
        r.Out.Should().Be("421 unable to read controls (#4.3.0)\r\n");
        r.ExitCode.Should().Be(1);
    }

    [Theory, ForEachDriver]
    public void Localiphost_replaces_a_literal_of_this_host(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("localiphost", "lip.example\n");
        h.Home.WriteControl("rcpthosts", "lip.example\n");
        var r = h.Talk(driver, "MAIL FROM:<s@[127.0.0.1]>\r\nRCPT TO:<a@[127.0.0.1]>\r\nRCPT TO:<a@[192.0.2.1]>\r\nDATA\r\n.\r\n", compat: true);
        r.Out.Should().Contain("250 ok\r\n250 ok\r\n553 ");
        SmtpdHome.S(h.Queued().Single().Todo).Should().EndWith("\0Fs@lip.example\0Ta@lip.example\0");
    }

    [Theory, ForEachDriver]
    public void Morercpthosts_cdb_built_by_newmrh_is_consulted(SmtpdDriver driver)
    {
        using var h = new SmtpdHome("example.com\n");
        h.Home.WriteControl("morercpthosts", "# more\nMore.Example  \n\n.sub.example\t\n");
        var r = Run.Process(h.Home.Bin("qmail-newmrh"), []);
        r.ExitCode.Should().Be(0, r.Err);
        File.Exists(h.Home.Control("morercpthosts.tmp")).Should().BeFalse();
        Run.Process("cdb", ["-d", h.Home.Control("morercpthosts.cdb")]).Out
            .Should().Be("+12,0:more.example->\n+12,0:.sub.example->\n\n");
        h.Talk(driver, "MAIL FROM:<s@x>\r\nRCPT TO:<a@more.example>\r\nRCPT TO:<a@x.sub.example>\r\nRCPT TO:<a@sub.example>\r\n", compat: true)
            .Out.Should().Be("220 mx.example ESMTP\r\n250 ok\r\n250 ok\r\n250 ok\r\n553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");
    }

    [Fact]
    public void Newmrh_without_its_source_fails_with_qmails_message()
    {
        using var h = new SmtpdHome();
        var r = Run.Process(h.Home.Bin("qmail-newmrh"), []);
        r.ExitCode.Should().Be(111);
        r.Err.Should().Be("qmail-newmrh: fatal: unable to read control/morercpthosts\n");
    }

    [Fact]
    public void Timeout_is_451_and_exit_1()
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("timeoutsmtpd", "1\n");
        var r = Run.Shell("(printf 'HELO x\\r\\n'; sleep 3) | \"$1\"", env: SmtpdHome.BaseEnvironment(true),
            timeoutMs: 20_000, args: h.Home.Bin("qmail-smtpd"));
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n451 timeout (#4.4.2)\r\n");
        r.ExitCode.Should().Be(1);
    }

    [Theory, ForEachDriver]
    public void Compat_offers_neither_starttls_nor_auth_even_when_configured(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var dir = new TempDir("jsmail-compat-tls");
        SmtpdHome.WriteCertificate(h.Home.Control("servercert.pem"), dir["cert"]);
        h.Home.WriteControl("smtpauthtls", "0\n");
        string[] args = ["mx.example", SmtpdHome.WriteCheckpassword(dir["checkpassword"], dir["fd3"]), "/bin/true"];
        var plain = Convert.ToBase64String("\0alice\0open sesame"u8.ToArray());
        var r = h.Talk(driver, "EHLO client.example\r\nSTARTTLS\r\nAUTH PLAIN " + plain + "\r\nAUTH LOGIN\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nQUIT\r\n",
            compat: true, env: new Dictionary<string, string?> { ["SUBMISSION"] = "1" }, args: args);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n" +
                          "502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n250 ok\r\n" +
                          "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n221 mx.example\r\n");
        r.Err.Should().BeEmpty();
        File.Exists(dir["fd3"]).Should().BeFalse();
    }

    public void Dispose() => _h.Dispose();
}
