using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// Postfix policy delegation (control/policy) over SMTP, through both drivers:
/// a scripted service for every action and every failure, and the real
/// postgrey for greylisting.
/// </summary>
public sealed class PolicyTests
{
    private const string Greeting = "220 mx.example ESMTP\r\n";
    private const string Ehlo = "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n250-ENHANCEDSTATUSCODES\r\n" +
                                "250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 LIMITS RCPTMAX=100\r\n";

    /// <summary>A service answering by the recipient's local part, as the test below expects.</summary>
    private static string? ByRecipient(IReadOnlyDictionary<string, string> request) =>
        request.GetValueOrDefault("recipient", "").Split('@')[0] switch
        {
            "reject" => ScriptedPolicyServer.Answer("REJECT go away"),
            "defer" => ScriptedPolicyServer.Answer("DEFER later"),
            "grey" => ScriptedPolicyServer.Answer("DEFER_IF_PERMIT Greylisted"),
            "ifreject" => ScriptedPolicyServer.Answer("DEFER_IF_REJECT maybe"),
            "code" => ScriptedPolicyServer.Answer("550 5.1.1 no such user"),
            "warn" => ScriptedPolicyServer.Answer("WARN odd recipient"),
            "hold" => ScriptedPolicyServer.Answer("HOLD look at it"),
            "bogus" => ScriptedPolicyServer.Answer("FROBNICATE"),
            "prepend" => ScriptedPolicyServer.Answer("PREPEND X-Policy: seen"),
            "discard" => ScriptedPolicyServer.Answer("DISCARD spam"),
            "bye" => ScriptedPolicyServer.Answer("421 4.4.2 closing"),
            "dunno" => ScriptedPolicyServer.Answer("DUNNO"),
            _ => ScriptedPolicyServer.Answer("OK"),
        };

    [Theory, ForEachDriver]
    public void Each_action_at_rcpt_gets_postfixs_reply_and_prepend_reaches_the_queued_message(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(ByRecipient);
        h.Home.WriteControl("policy", policy.Endpoint + "\n");
        var rcpts = new[] { "ok", "dunno", "reject", "defer", "grey", "ifreject", "code", "warn", "bogus", "prepend" };
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n" +
                               string.Concat(rcpts.Select(a => $"RCPT TO:<{a}@example.com>\r\n")) +
                               "DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex("^" + System.Text.RegularExpressions.Regex.Escape(Greeting + Ehlo + "250 2.1.0 ok\r\n" +
            "250 2.1.5 ok\r\n250 2.1.5 ok\r\n" +
            "554 5.7.1 <reject@example.com>: Recipient address rejected: go away\r\n" +
            "450 4.7.1 <defer@example.com>: Recipient address rejected: later\r\n" +
            "450 4.7.1 <grey@example.com>: Recipient address rejected: Greylisted\r\n" +
            "250 2.1.5 ok\r\n" +
            "550 5.1.1 <code@example.com>: Recipient address rejected: no such user\r\n" +
            "250 2.1.5 ok\r\n" +
            "451 4.3.5 <bogus@example.com>: Recipient address rejected: Server configuration error\r\n" +
            "250 2.1.5 ok\r\n354 go ahead\r\n") + @"250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
        r.Err.Should().Contain($"policy {policy.Endpoint}: WARN odd recipient")
            .And.Contain($"policy {policy.Endpoint}: unknown action FROBNICATE");
        policy.Requests.Select(q => q["recipient"].Split('@')[0]).Should().Equal(rcpts);
        policy.Connections.Should().Be(1, "one connection serves every request");

        var queued = h.Queued().Should().ContainSingle().Subject;
        SmtpdHome.S(queued.Todo).Should().EndWith("\0Fs@x.example\0Tok@example.com\0Tdunno@example.com\0Tifreject@example.com\0" +
                                                  "Twarn@example.com\0Tprepend@example.com\0");
        var lines = SmtpdHome.S(queued.Message).Split('\n');
        lines[1].Should().Be("X-Policy: seen", "a prepended header goes above smtpd's Received line");
        lines[2].Should().StartWith("Received: from ");
    }

    [Theory, ForEachDriver]
    public void Hold_accepts_and_keeps_the_message_for_the_quarantine_until_released_with_its_parameters(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(q => (q["protocol_state"], q["recipient"], q["sender"]) switch
        {
            ("RCPT", "hold@example.com", _) => ScriptedPolicyServer.Answer("HOLD looks odd"),
            ("END-OF-MESSAGE", _, "late@x.example") => ScriptedPolicyServer.Answer("HOLD"),
            _ => ScriptedPolicyServer.Answer("DUNNO"),
        });
        h.Home.WriteControl("quarantine", "held@mx.example\n");

        // HOLD at RCPT: the fields go on top as the message streams to the queue.
        h.Home.WriteControl("policy", policy.Endpoint + "\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example> RET=HDRS ENVID=e1\r\n" +
                               "RCPT TO:<a@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@example.com\r\nRCPT TO:<hold@example.com>\r\n" +
                               "DATA\r\nSubject: held\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex(@"250 2\.1\.5 ok\r\n250 2\.1\.5 ok\r\n354 go ahead\r\n250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
        r.Err.Should().Contain("policy: HOLD: the message is held for held@mx.example: looks odd");
        var held = h.Queued().Should().ContainSingle().Subject;
        SmtpdHome.S(held.Todo).Should().EndWith("\0Fs@x.example\0Theld@mx.example\0", "nothing reaches the recipients");
        SmtpdHome.S(held.Message).Should().Contain("\nX-Jsmail-Quarantine: looks odd\nX-Jsmail-Quarantine-Sender: <s@x.example> RET=HDRS ENVID=e1\n" +
            "X-Jsmail-Quarantine-Recipient: <a@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@example.com\n" +
            "X-Jsmail-Quarantine-Recipient: <hold@example.com>\nReceived: from ");

        // The quarantine mailbox's copy, released: queued for its real envelope, parameters and all.
        using var dir = new TempDir();
        File.WriteAllBytes(dir["held"], [.. "Return-Path: <s@x.example>\nDelivered-To: held@mx.example\n"u8, .. held.Message]);
        var release = Run.Process(h.Home.Bin("jsmail-release"), [dir["held"]]);
        release.ExitCode.Should().Be(0, release.Err);
        var released = h.Home.Entries("todo").Select(t => Path.GetFileName(t))
            .Single(id => SmtpdHome.S(h.Home.ReadQueueFile(Path.Combine("todo", id))).EndsWith("\0Fs@x.example\0Ta@example.com\0Thold@example.com\0"));
        var ext = Jsmail.Common.Envelope.EnvelopeExtensionCodec.Decode(
            h.Home.ReadQueueFile(Path.Combine("ext", (long.Parse(released) % 23).ToString(), released)), 2);
        ext.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("RET=HDRS", "ENVID=e1");
        ext.ParametersOf(0).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;a@example.com");
        ext.ParametersOf(1).Should().BeEmpty();
        SmtpdHome.Body(h.Home.ReadQueueFile(Path.Combine("mess", (long.Parse(released) % 23).ToString(), released)))
            .Should().Be("Subject: held\n\nbody\n");

        // HOLD at END-OF-MESSAGE: the message was held whole, so the fields still go on top.
        using var h2 = new SmtpdHome();
        h2.Home.WriteControl("quarantine", "held@mx.example\n");
        h2.Home.WriteControl("policy", policy.Endpoint + " stages=rcpt,end-of-message\n");
        r = h2.Talk(driver, "EHLO c.example\r\nMAIL FROM:<late@x.example>\r\nRCPT TO:<b@example.com>\r\n" +
                            "DATA\r\nSubject: late\r\n\r\nlater\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex(@"354 go ahead\r\n250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
        var late = h2.Queued().Should().ContainSingle().Subject;
        SmtpdHome.S(late.Todo).Should().EndWith("\0Flate@x.example\0Theld@mx.example\0");
        SmtpdHome.S(late.Message).Should().Contain("\nX-Jsmail-Quarantine: triggers HOLD action\n" +
            "X-Jsmail-Quarantine-Sender: <late@x.example>\nX-Jsmail-Quarantine-Recipient: <b@example.com>\nReceived: from ")
            .And.EndWith("\n\nlater\n");
    }

    [Theory, ForEachDriver]
    public void A_service_that_never_accepts_the_connection_takes_its_default_after_the_timeout(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var full = new FullListener();
        using var dunno = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("DUNNO"));
        h.Home.WriteControl("policy", $"inet:127.0.0.1:{full.Port} timeout=1\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n");
        r.Out.Should().EndWith("250 2.1.0 ok\r\n451 4.3.5 <a@example.com>: Recipient address rejected: Server configuration problem\r\n" +
                               "221 2.0.0 mx.example\r\n");
        r.Err.Should().Contain($"policy inet:127.0.0.1:{full.Port}: cannot connect within 1 seconds: default action tempfail");

        h.Home.WriteControl("policy", $"inet:127.0.0.1:{full.Port} timeout=1 default=dunno\n{dunno.Endpoint}\n");
        r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n");
        r.Out.Should().EndWith("250 2.1.0 ok\r\n250 2.1.5 ok\r\n221 2.0.0 mx.example\r\n");
        r.Err.Should().Contain($"policy inet:127.0.0.1:{full.Port}: cannot connect within 1 seconds: default action dunno");
        dunno.Requests.Should().ContainSingle("the next service is asked once the first's default let the round go on");
    }

    [Theory, ForEachDriver]
    public void Discard_accepts_and_queues_nothing_and_421_ends_the_session(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(ByRecipient);
        h.Home.WriteControl("policy", policy.Endpoint + "\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<ok@example.com>\r\nRCPT TO:<discard@example.com>\r\n" +
                               "DATA\r\nSubject: spam\r\n\r\nbuy\r\n.\r\n" +
                               "MAIL FROM:<s@x.example>\r\nRCPT TO:<bye@example.com>\r\nRCPT TO:<ok@example.com>\r\nQUIT\r\n");
        r.Out.Should().MatchRegex(@"250 2\.1\.5 ok\r\n250 2\.1\.5 ok\r\n354 go ahead\r\n250 2\.0\.0 ok \d+ qp \d+\r\n250 2\.1\.0 ok\r\n" +
                                  @"421 4\.4\.2 <bye@example\.com>: Recipient address rejected: closing\r\n$");
        r.Err.Should().Contain("message discarded");
        h.Queued().Should().BeEmpty();
        policy.Requests.Should().HaveCount(3, "nothing is asked after the 421");
    }

    [Theory, ForEachDriver]
    public void Every_stage_can_be_asked_with_the_attributes_postfix_sends(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(q => q["sender"] switch
        {
            "bad@x.example" when q["protocol_state"] == "MAIL" => ScriptedPolicyServer.Answer("REJECT not you"),
            "late@x.example" when q["protocol_state"] == "END-OF-MESSAGE" => ScriptedPolicyServer.Answer("DEFER too late"),
            _ => ScriptedPolicyServer.Answer("DUNNO"),
        });
        h.Home.WriteControl("policy", policy.Endpoint + " stages=helo,mail,rcpt,data,end-of-message\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example> SIZE=100\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n" +
                               "DATA\r\n12345\r\n.\r\n" +
                               "MAIL FROM:<bad@x.example>\r\nRCPT TO:<a@example.com>\r\n" +
                               "MAIL FROM:<late@x.example>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nlate\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex(@"354 go ahead\r\n250 2\.0\.0 ok \d+ qp \d+\r\n" +
                                  @"554 5\.7\.1 <bad@x\.example>: Sender address rejected: not you\r\n503 5\.5\.1 MAIL first \(#5\.5\.1\)\r\n" +
                                  @"250 2\.1\.0 ok\r\n250 2\.1\.5 ok\r\n354 go ahead\r\n" +
                                  @"450 4\.7\.1 <END-OF-MESSAGE>: End-of-data rejected: too late\r\n221 2\.0\.0 mx\.example\r\n$");
        h.Queued().Should().ContainSingle("the deferred message is not queued");

        var q = policy.Requests;
        q.Select(x => x["protocol_state"]).Should().Equal("EHLO", "MAIL", "RCPT", "RCPT", "DATA", "END-OF-MESSAGE",
            "MAIL", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE");
        q.Should().OnlyContain(x => x["request"] == "smtpd_access_policy" && x["protocol_name"] == "ESMTP" &&
                                    x["helo_name"] == "c.example" && x["client_address"] == "127.0.0.1" && x["client_name"] == "unknown");
        q[1]["sender"].Should().Be("s@x.example");
        q[1]["size"].Should().Be("100", "MAIL's SIZE= until the message is in");
        q[2]["recipient"].Should().Be("a@example.com");
        q[4]["recipient_count"].Should().Be("2");
        q[4]["recipient"].Should().Be("", "only a single recipient is named after RCPT");
        q[5]["size"].Should().Be("6", "the message's bytes as received");
        q.Skip(1).Take(5).Select(x => x["instance"]).Distinct().Should().ContainSingle("one instance per transaction");
        q[8]["instance"].Should().NotBe(q[1]["instance"]);
    }

    [Theory, ForEachDriver]
    public void A_hung_service_takes_its_default_and_a_broken_kept_connection_is_retried(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var hung = new ScriptedPolicyServer(q => q["recipient"].StartsWith("hang@", StringComparison.Ordinal) ? null : ScriptedPolicyServer.Answer("DUNNO"));
        using var closing = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("DUNNO"), closeAfterEachAnswer: true);
        using var dead = new ScriptedPolicyServer(_ => "");
        h.Home.WriteControl("policy", $"{hung.Endpoint} timeout=1\n{closing.Endpoint}\n{dead.Endpoint} default=dunno\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<hang@example.com>\r\n" +
                               "RCPT TO:<b@example.com>\r\nQUIT\r\n");
        r.Out.Should().EndWith("250 2.1.0 ok\r\n250 2.1.5 ok\r\n" +
                               "451 4.3.5 <hang@example.com>: Recipient address rejected: Server configuration problem\r\n" +
                               "250 2.1.5 ok\r\n221 2.0.0 mx.example\r\n");
        r.Err.Should().Contain($"policy {hung.Endpoint}: no answer within 1 seconds: default action tempfail")
            .And.Contain($"policy {dead.Endpoint}: closed the connection without an answer: default action dunno");
        closing.Requests.Should().HaveCount(2, "asked for a and b: the service closed after a, so b went on a new connection");
        closing.Connections.Should().Be(2);
        hung.Connections.Should().Be(2, "the hung connection was given up");
    }

    [Theory, ForEachDriver]
    public void A_service_asked_at_connect_can_refuse_the_client_in_the_greeting(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(q => q["protocol_state"] == "CONNECT"
            ? ScriptedPolicyServer.Answer("REJECT not from here") : ScriptedPolicyServer.Answer("DUNNO"));
        h.Home.WriteControl("policy", policy.Endpoint + " stages=connect,rcpt\n");
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nNOOP\r\nQUIT\r\n");
        const string refusal = "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: not from here\r\n";
        r.Out.Should().Be(refusal + refusal + refusal + "250 2.0.0 ok\r\n221 2.0.0 mx.example\r\n");
        var asked = policy.Requests.Should().ContainSingle("nothing is asked after the client was refused").Subject;
        asked["protocol_state"].Should().Be("CONNECT");
        asked["client_address"].Should().Be("127.0.0.1");
        asked["helo_name"].Should().Be("");

        using var accepting = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("DUNNO"));
        h.Home.WriteControl("policy", accepting.Endpoint + " stages=connect\n");
        h.Talk(driver, "QUIT\r\n").Out.Should().Be(Greeting + "221 2.0.0 mx.example\r\n");
        accepting.Requests.Should().ContainSingle().Which["protocol_state"].Should().Be("CONNECT");
    }

    [Theory, ForEachDriver]
    public void Under_qmail_compat_no_service_is_asked(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var policy = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("REJECT no"));
        h.Home.WriteControl("policy", policy.Endpoint + " stages=helo,mail,rcpt,data,end-of-message\n");
        var r = h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 ok\r\n250 ok\r\n221 mx.example\r\n");
        policy.Requests.Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void A_control_line_not_understood_refuses_mail_as_unreadable_controls_do(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        h.Home.WriteControl("policy", "inet:127.0.0.1:10023 stages=vrfy\n");
        h.Talk(driver, "HELO c.example\r\nQUIT\r\n").Out.Should().Be("421 unable to read controls (#4.3.0)\r\n");
    }

    [Theory, ForEachDriver]
    public void Postgrey_defers_the_first_attempt_and_accepts_a_retry_after_its_delay(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        using var dir = new TempDir("jsmail-postgrey");
        Directory.CreateDirectory(dir["db"]);
        var port = Ports.Free();
        // its own database, a one-second delay, and the test's own user and group (by name: postgrey reads 0 as "none given")
        using var postgrey = Run.Start("/usr/sbin/postgrey", [$"--inet=127.0.0.1:{port}", "--dbdir=" + dir["db"], "--delay=1",
            "--user=" + Environment.UserName, "--group=" + GroupName(Jsmail.Common.Os.Libc.Getgid()), "--hostname=grey.test"],
            redirect: Redirect.Output | Redirect.Error);
        postgrey.OutputDataReceived += (_, _) => { };
        postgrey.ErrorDataReceived += (_, _) => { };
        postgrey.BeginOutputReadLine();
        postgrey.BeginErrorReadLine();
        try
        {
            Ports.WaitForListener(port, "postgrey", seconds: 30);
            h.Home.WriteControl("policy", $"inet:127.0.0.1:{port}\n");
            const string envelope = "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<bob@example.com>\r\n";
            // 4.2.0: postgrey's own code, which it sends to a client that sends etrn_domain, as Postfix does
            h.Talk(driver, envelope + "QUIT\r\n").Out.Should().EndWith("250 2.1.0 ok\r\n" +
                "450 4.2.0 <bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html\r\n" +
                "221 2.0.0 mx.example\r\n");

            // A retry before the delay is greylisted again without restarting it: retry until accepted. (While
            // deferred, the message's lines after DATA's 503 are taken as commands and refused: no harm done.)
            var message = envelope + "DATA\r\nSubject: grey\r\n\r\nhello\r\n.\r\nQUIT\r\n";
            RunResult? passed = null;
            Wait.Until(() => (passed = h.Talk(driver, message)).Out.Contains("354 go ahead"), seconds: 30, pollMs: 500).Should().BeTrue();
            passed!.Out.Should().MatchRegex(@"250 2\.1\.5 ok\r\n354 go ahead\r\n250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
            var lines = SmtpdHome.S(h.Queued().Should().ContainSingle().Subject.Message).Split('\n');
            lines[1].Should().StartWith("X-Greylist: delayed ").And.Contain(" by postgrey-", "postgrey's PREPEND");
            lines[2].Should().StartWith("Received: from ");
        }
        finally
        {
            postgrey.Kill();
            postgrey.WaitForExit(10_000);
        }
    }

    private static string GroupName(uint gid) =>
        File.ReadLines("/etc/group").Select(l => l.Split(':')).First(f => f.Length > 2 && f[2] == gid.ToString())[0];
}
