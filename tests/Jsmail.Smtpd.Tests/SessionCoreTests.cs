using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// The session core driven by scripts of events, with no process and no
/// socket: every slow thing comes out as an effect and goes back in as the
/// result the test chooses.
/// </summary>
public sealed class SessionCoreTests : IDisposable
{
    private const long Now = 1_700_000_000;
    private readonly TempDir _home = new("jsmail-session");
    private readonly List<RecordingSink> _sinks = new();

    public void Dispose() => _home.Dispose();

    private sealed class CertificateCheck(bool usable) : IStartTlsCheck
    {
        public bool Prepare(out string? problem)
        {
            problem = usable ? null : "EACCES";
            return usable;
        }
    }

    /// <summary>Settings as jsmail-smtpd reads them from a home whose control/ holds these files.</summary>
    private SmtpdSettings Settings(params (string Name, string Content)[] controls)
    {
        Directory.CreateDirectory(_home["control"]);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        foreach (var (name, content) in controls) File.WriteAllText(_home["control/" + name], content);
        return SmtpdSettings.Read(new ControlReader(_home.Path), _home.Path, compat: false, dataBytesFromEnv: null);
    }

    private SmtpSession Session(SmtpdSettings settings, bool sinkAvailable = true, IStartTlsCheck? tls = null,
        Checkpassword? auth = null, IReadOnlyList<byte[]>? childEnvironment = null)
    {
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "client.example"u8.ToArray(), null,
            "mx.example"u8.ToArray(), null) { ChildEnvironment = childEnvironment };
        return new SmtpSession(settings, client, () =>
        {
            if (!sinkAvailable) return null;
            var sink = new RecordingSink();
            _sinks.Add(sink);
            return sink;
        }, () => Now, tls, auth);
    }

    private static SessionStep Say(SmtpSession s, string line) => s.Command(Encoding.ASCII.GetBytes(line + "\r"));

    /// <summary>Replies so far, taken as a driver takes them.</summary>
    private static string Take(SmtpSession s)
    {
        var text = Encoding.Latin1.GetString(s.Output.ToArray());
        s.Output.Clear();
        return text;
    }

    /// <summary>A run of the effect's request that exited with this code, having written this on fd 1.</summary>
    private static ChildResult Exited(ChildRequest request, int code, string stdout = "")
    {
        var captured = new byte[request.Fds.Count][];
        var capped = new bool[request.Fds.Count];
        for (var i = 0; i < captured.Length; i++)
            captured[i] = request.Fds[i].Kind == ChildFdKind.Capture && request.Fds[i].Child == 1 ? Encoding.ASCII.GetBytes(stdout) : [];
        return new ChildResult(ChildEnd.Exited, code, request.Fds, captured, capped);
    }

    private static byte[] Fed(ChildRequest request, int fd) =>
        request.Fds.Single(f => f.Child == fd && f.Kind == ChildFdKind.Feed).Input.ToArray();

    private static string Env(ChildRequest request, string name) =>
        request.Environment!.Select(e => Encoding.ASCII.GetString(e)).Single(e => e.StartsWith(name + "="));

    private static T Pending<T>(SmtpSession s, SessionStep step) where T : SessionEffect
    {
        step.Should().Be(SessionStep.Effect);
        return s.PendingEffect.Should().BeOfType<T>().Subject;
    }

    [Fact]
    public void A_check_program_is_an_effect_with_the_stage_and_the_envelope_on_fd3()
    {
        var s = Session(Settings(("smtpcheck", "/usr/local/bin/check -v\n")),
            childEnvironment: ["TCPREMOTEIP=192.0.2.1"u8.ToArray(), "SMTPCHECK=stale"u8.ToArray()]);
        s.Greet();
        var helo = Pending<CheckProgramEffect>(s, Say(s, "EHLO c.example"));
        Env(helo.Request, "SMTPCHECK").Should().Be("SMTPCHECK=helo");
        Take(s).Should().Be("220 mx.example ESMTP\r\n", "nothing is answered before the check's result");
        s.CheckProgramDone(Exited(helo.Request, 0)).Should().Be(SessionStep.Command);
        Take(s).Should().StartWith("250-mx.example\r\n250-PIPELINING\r\n");

        var mail = Pending<CheckProgramEffect>(s, Say(s, "MAIL FROM:<s@x.example>"));
        Env(mail.Request, "SMTPCHECK").Should().Be("SMTPCHECK=mail");
        s.CheckProgramDone(Exited(mail.Request, 0)).Should().Be(SessionStep.Command);

        var rcpt = Pending<CheckProgramEffect>(s, Say(s, "RCPT TO:<nobody@example.com>"));
        rcpt.Request.Program.Should().Be("/usr/local/bin/check");
        rcpt.Request.Argv.Select(a => Encoding.ASCII.GetString(a)).Should().Equal("/usr/local/bin/check", "-v");
        rcpt.Request.Environment!.Select(e => Encoding.ASCII.GetString(e))
            .Should().Equal("TCPREMOTEIP=192.0.2.1", "SMTPCHECK=rcpt");
        Fed(rcpt.Request, 3).Should().Equal("c.example\0s@x.example\0nobody@example.com\0\0"u8.ToArray());
        s.CheckProgramDone(Exited(rcpt.Request, 100, "no such user\nsecond line\n")).Should().Be(SessionStep.Command);
        s.PendingEffect.Should().BeNull();
        Take(s).Should().Be("250 2.1.0 ok\r\n550 5.1.1 no such user\r\n");
    }

    [Fact]
    public void Verdicts_of_a_check_program_give_qmails_replies()
    {
        var deferred = SmtpChecks.ProgramVerdict(Exited(new ChildRequest("x", []) { Fds = [ChildFd.Capture(1, 100)] }, 111, " 4.2.2 full\t\nmore\n"));
        deferred.Verdict.Should().Be(CheckVerdict.Defer);
        Encoding.ASCII.GetString(deferred.Text!).Should().Be("4.2.2 full");
        SmtpChecks.ProgramVerdict(Exited(new ChildRequest("x", []), 0)).Verdict.Should().Be(CheckVerdict.Accept);
        SmtpChecks.ProgramVerdict(Exited(new ChildRequest("x", []), 3)).Verdict.Should().Be(CheckVerdict.Unavailable);
        Checkpassword.Verdict(Exited(new ChildRequest("x", []), 0)).Should().Be(AuthVerdict.Accepted);
        Checkpassword.Verdict(Exited(new ChildRequest("x", []), 111)).Should().Be(AuthVerdict.Unavailable);
        Checkpassword.Verdict(Exited(new ChildRequest("x", []), 1)).Should().Be(AuthVerdict.Rejected);
    }

    [Fact]
    public void Pipelined_commands_after_an_effect_are_answered_in_order()
    {
        var s = Session(Settings(("smtpcheck", "/bin/check\n")));
        var step = Say(s, "HELO c.example");
        s.Invoking(x => x.Command("NOOP"u8)).Should().Throw<InvalidOperationException>("no command while an effect waits");
        s.CheckProgramDone(Exited(((CheckProgramEffect)s.PendingEffect!).Request, 0));
        foreach (var line in new[] { "MAIL FROM:<s@x>", "RCPT TO:<a@example.com>", "RCPT TO:<b@example.com>" })
        {
            step = Say(s, line);
            var effect = Pending<CheckProgramEffect>(s, step);
            var deferB = Encoding.ASCII.GetString(Fed(effect.Request, 3)).Contains("b@");
            s.CheckProgramDone(Exited(effect.Request, deferB ? 111 : 0, deferB ? "try later\n" : ""));
        }
        Say(s, "NOOP").Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 mx.example\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n451 4.7.1 try later\r\n250 2.0.0 ok\r\n");
    }

    [Fact]
    public void Without_a_program_the_tables_answer_at_once()
    {
        var s = Session(Settings());
        Say(s, "HELO c.example").Should().Be(SessionStep.Command);
        Say(s, "MAIL FROM:<s@x>").Should().Be(SessionStep.Command);
        Say(s, "RCPT TO:<a@example.com>").Should().Be(SessionStep.Command);
        s.PendingEffect.Should().BeNull();
    }

    private static SmtpSession InData(SmtpSession s)
    {
        Say(s, "EHLO c.example");
        Say(s, "MAIL FROM:<s@x.example> BODY=8BITMIME");
        Say(s, "RCPT TO:<a@example.com> NOTIFY=NEVER");
        Say(s, "RCPT TO:<b@example.com>");
        Say(s, "DATA").Should().Be(SessionStep.Data);
        Take(s);
        return s;
    }

    [Fact]
    public void Data_goes_into_the_sink_and_the_final_dot_asks_for_the_commit()
    {
        var s = InData(Session(Settings()));
        s.Data("Subject: hi\r\n\r\n..dot\r\n"u8, out var used).Should().Be(SessionStep.Data);
        used.Should().Be(22);
        var commit = Pending<CommitMessageEffect>(s, s.Data(".\r\nQUIT\r\n"u8, out used));
        used.Should().Be(3, "the commands behind the dot are the driver's to read");
        commit.Sink.Should().BeSameAs(_sinks.Single());
        commit.Envelope.Sender.Should().Equal("s@x.example"u8.ToArray());
        commit.Envelope.Recipients.Select(r => Encoding.ASCII.GetString(r)).Should().Equal("a@example.com", "b@example.com");
        commit.Envelope.Extension!.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("BODY=8BITMIME");
        commit.Envelope.Extension.ForRecipient(0).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=NEVER");
        var message = Encoding.Latin1.GetString(_sinks[0].Bytes.ToArray());
        message.Should().StartWith("Received: from client.example (HELO c.example) (192.0.2.1)\n  by mx.example with ESMTP; ");
        message.Should().EndWith("\nSubject: hi\n\n.dot\n");
        Take(s).Should().BeEmpty("the reply to the dot waits for the commit");

        s.CommitDone(QueueResult.Ok).Should().Be(SessionStep.Command);
        Take(s).Should().Be($"250 2.0.0 ok {Now} qp 4242\r\n");
        _sinks[0].Aborted.Should().BeFalse();
        Say(s, "RCPT TO:<c@example.com>").Should().Be(SessionStep.Command);
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n", "the transaction ended with the message");
    }

    [Theory]
    [InlineData("Zqq temporary problem (#4.3.0)", "451 4.3.0 qq temporary problem (#4.3.0)\r\n")]
    [InlineData("Dmessage refused by policy (#5.7.1)", "554 5.7.1 message refused by policy (#5.7.1)\r\n")]
    [InlineData("Zfilter said\nsomething", "451 4.3.0 filter said something\r\n")]
    public void A_failed_commit_gives_the_queues_text(string queueText, string reply)
    {
        var s = InData(Session(Settings()));
        var commit = Pending<CommitMessageEffect>(s, s.Data("x\r\n.\r\n"u8, out _));
        s.CommitDone(QueueResult.Of(queueText)).Should().Be(SessionStep.Command);
        Take(s).Should().Be(reply);
        commit.Sink.Should().BeSameAs(_sinks.Single());
    }

    [Fact]
    public void No_sink_is_qmails_qqt_failure()
    {
        var s = Session(Settings(), sinkAvailable: false);
        Say(s, "HELO c.example");
        Say(s, "MAIL FROM:<s@x>");
        Say(s, "RCPT TO:<a@example.com>");
        Say(s, "DATA").Should().Be(SessionStep.Command);
        Take(s).Should().EndWith("250 2.1.5 ok\r\n451 4.3.0 qqt failure (#4.3.0)\r\n");
    }

    [Fact]
    public void A_hangup_during_data_aborts_the_sink()
    {
        var s = InData(Session(Settings()));
        s.Data("Subject: half\r\n"u8, out _).Should().Be(SessionStep.Data);
        s.Hangup();
        _sinks.Single().Aborted.Should().BeTrue();
    }

    [Fact]
    public void A_message_over_databytes_is_aborted_at_the_dot_without_a_commit()
    {
        var s = InData(Session(Settings(("databytes", "10\n"))));
        s.Data("0123456789abcdef\r\n.\r\n"u8, out _).Should().Be(SessionStep.Command);
        s.PendingEffect.Should().BeNull();
        _sinks.Single().Aborted.Should().BeTrue();
        Take(s).Should().Be("552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
    }

    [Fact]
    public void Auth_plain_is_an_effect_and_its_verdict_the_reply()
    {
        var settings = Settings((SmtpdSettings.AuthTlsFile, "0\n"));
        var s = Session(settings, auth: new Checkpassword("mx.example", ["/bin/checkpassword", "/bin/true"]));
        Say(s, "EHLO c.example");
        Take(s).Should().Contain("250 AUTH PLAIN LOGIN\r\n");
        var plain = Convert.ToBase64String("\0alice\0open sesame"u8.ToArray());
        var auth = Pending<AuthenticateEffect>(s, Say(s, "AUTH PLAIN " + plain));
        auth.Request.Argv.Select(a => Encoding.ASCII.GetString(a)).Should().Equal("/bin/checkpassword", "/bin/true");
        var fed = Fed(auth.Request, 3);
        Encoding.ASCII.GetString(fed).Should().Be($"alice\0open sesame\0<{Environment.ProcessId}.{Now}@mx.example>\0");
        s.AuthenticateDone(Exited(auth.Request, 0)).Should().Be(SessionStep.Command);
        Fed(auth.Request, 3).Should().OnlyContain(b => b == 0, "the password is cleared once the run is over");
        s.Authenticated.Should().BeTrue();
        Take(s).Should().Be("235 2.7.0 authentication successful\r\n");
    }

    [Fact]
    public void A_refused_auth_counts_as_a_failure()
    {
        var s = Session(Settings((SmtpdSettings.AuthTlsFile, "0\n")), auth: new Checkpassword("mx.example", ["/bin/cp", "/bin/true"]));
        Say(s, "EHLO c.example");
        Take(s);
        Say(s, "AUTH LOGIN").Should().Be(SessionStep.Command);
        Say(s, Convert.ToBase64String("alice"u8.ToArray())).Should().Be(SessionStep.Command);
        var auth = Pending<AuthenticateEffect>(s, Say(s, Convert.ToBase64String("wrong"u8.ToArray())));
        s.AuthenticateDone(Exited(auth.Request, 1));
        s.AuthFailures.Should().Be(1);
        Take(s).Should().Be("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n535 5.7.8 authentication failed (#5.7.8)\r\n");
    }

    [Fact]
    public void Starttls_is_a_step_for_the_driver_and_a_new_start_after_it()
    {
        var settings = Settings(("servercert.pem", "not read by the core"));
        var s = Session(settings, tls: new CertificateCheck(usable: true));
        Say(s, "EHLO c.example");
        Take(s).Should().Contain("250 STARTTLS\r\n");
        Say(s, "MAIL FROM:<s@x>");
        Say(s, "STARTTLS").Should().Be(SessionStep.StartTls);
        Take(s).Should().Be("250 2.1.0 ok\r\n220 2.0.0 ready to start TLS\r\n");
        s.TlsStarted("TLSv1.3 TLS_AES_256_GCM_SHA384");
        Say(s, "RCPT TO:<a@example.com>");
        Take(s).Should().Be("503 5.5.1 MAIL first (#5.5.1)\r\n", "RFC 3207 §4.2: the transaction before STARTTLS is forgotten");
        Say(s, "EHLO c.example");
        Take(s).Should().NotContain("STARTTLS");
    }

    [Fact]
    public void An_unusable_certificate_refuses_starttls_for_now()
    {
        var s = Session(Settings(("servercert.pem", "x")), tls: new CertificateCheck(usable: false));
        Say(s, "EHLO c.example");
        Take(s);
        Say(s, "STARTTLS").Should().Be(SessionStep.Command);
        Take(s).Should().Be("454 4.7.0 TLS not available due to temporary reason (#4.7.0)\r\n");
    }

    [Fact]
    public void A_timeout_while_a_check_runs_drops_the_effect_and_its_late_result_cannot_resume_the_session()
    {
        var s = Session(Settings(("smtpcheck", "/usr/local/bin/check\n")));
        Say(s, "HELO c.example");
        s.CheckProgramDone(Exited(((CheckProgramEffect)s.PendingEffect!).Request, 0));
        var mail = Pending<CheckProgramEffect>(s, Say(s, "MAIL FROM:<s@x.example>"));
        Take(s);
        s.Timeout().Should().Be(SessionStep.Close);
        s.PendingEffect.Should().BeNull();
        s.ExitCode.Should().Be(1);
        Take(s).Should().Be("451 4.4.2 timeout (#4.4.2)\r\n");
        var late = () => s.CheckProgramDone(Exited(mail.Request, 0));
        late.Should().Throw<InvalidOperationException>("the check was forgotten: its result has nothing to resume");
        Take(s).Should().BeEmpty("no 250 for a MAIL whose session timed out");
    }

    [Fact]
    public void A_timeout_while_the_message_commits_leaves_the_sink_to_the_driver()
    {
        var s = InData(Session(Settings()));
        var commit = Pending<CommitMessageEffect>(s, s.Data("x\r\n.\r\n"u8, out _));
        s.Timeout().Should().Be(SessionStep.Close);
        s.PendingEffect.Should().BeNull();
        _sinks.Single().Aborted.Should().BeFalse("the commit under way is the driver's: the session must not abort it");
        var late = () => s.CommitDone(QueueResult.Ok);
        late.Should().Throw<InvalidOperationException>();
        Take(s).Should().NotContain("250 2.0.0");
        commit.Sink.Should().BeSameAs(_sinks.Single());
    }

    [Fact]
    public void A_timeout_while_checkpassword_runs_clears_the_password()
    {
        var s = Session(Settings((SmtpdSettings.AuthTlsFile, "0\n")), auth: new Checkpassword("mx.example", ["/bin/checkpassword", "/bin/true"]));
        Say(s, "EHLO c.example");
        var plain = Convert.ToBase64String("\0alice\0open sesame"u8.ToArray());
        var auth = Pending<AuthenticateEffect>(s, Say(s, "AUTH PLAIN " + plain));
        s.Timeout().Should().Be(SessionStep.Close);
        Fed(auth.Request, 3).Should().OnlyContain(b => b == 0, "the password is not kept for a run whose result will never come");
        s.Authenticated.Should().BeFalse();
        var late = () => s.AuthenticateDone(Exited(auth.Request, 0));
        late.Should().Throw<InvalidOperationException>();
        s.Authenticated.Should().BeFalse();
    }

    [Fact]
    public void Data_and_an_overlong_line_while_an_effect_is_pending_are_refused_and_change_nothing()
    {
        var s = InData(Session(Settings()));
        var commit = Pending<CommitMessageEffect>(s, s.Data("x\r\n.\r\n"u8, out _));
        Take(s);
        var data = () => s.Data("more\r\n.\r\n"u8, out _);
        data.Should().Throw<InvalidOperationException>();
        var tooLong = () => s.LineTooLong();
        tooLong.Should().Throw<InvalidOperationException>();
        var command = () => Say(s, "RSET");
        command.Should().Throw<InvalidOperationException>();
        s.PendingEffect.Should().BeSameAs(commit, "the effect is still the one pending");
        Take(s).Should().BeEmpty();
        s.CommitDone(QueueResult.Ok).Should().Be(SessionStep.Command);
        Take(s).Should().Be($"250 2.0.0 ok {Now} qp 4242\r\n", "the refused events left no trace");
        Encoding.Latin1.GetString(_sinks.Single().Bytes.ToArray()).Should().EndWith("\nx\n", "the refused data never reached the sink");
    }

    [Fact]
    public void Data_outside_DATA_is_refused_and_a_hangup_while_a_check_runs_forgets_it()
    {
        var s = Session(Settings(("smtpcheck", "/usr/local/bin/check\n")));
        var data = () => s.Data("x\r\n"u8, out _);
        data.Should().Throw<InvalidOperationException>("no DATA command was answered 354");
        var helo = Pending<CheckProgramEffect>(s, Say(s, "HELO c.example"));
        s.Hangup();
        s.PendingEffect.Should().BeNull();
        var late = () => s.CheckProgramDone(Exited(helo.Request, 0));
        late.Should().Throw<InvalidOperationException>();
    }
}
