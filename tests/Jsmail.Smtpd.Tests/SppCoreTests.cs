using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Smtp.Session;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// qmail-spp's pieces as pure code: control/smtpplugins, the output language,
/// and the session core driven by scripts of plugin runs whose results the
/// test chooses.
/// </summary>
public sealed class SppCoreTests : IDisposable
{
    private const long Now = 1_700_000_000;
    private readonly TempDir _home = new("jsmail-spp");
    private readonly List<List<byte>> _messages = new();

    public void Dispose() => _home.Dispose();

    private static byte[][] Lines(params string[] lines) => lines.Select(Encoding.ASCII.GetBytes).ToArray();

    private static string[] Names(SppConfig c, SppSection s) => c.Plugins(s).Select(Encoding.ASCII.GetString).ToArray();

    [Fact]
    public void The_control_file_is_split_by_the_second_byte_of_each_section_header()
    {
        var c = SppConfig.Parse(Lines("plugins/before-any-section", "[connection]", "plugins/rbl", "[rcpt]", ":exec plugins/vchk --quiet",
            "[recipients]", "plugins/second", "[pass]", "plugins/ignored", "[h]", " plugins/leading space", "[mail]", "[data]", "plugins/d",
            "[auth]", "plugins/a"));
        Names(c, SppSection.Connection).Should().Equal("plugins/rbl");
        Names(c, SppSection.Rcpt).Should().Equal(":exec plugins/vchk --quiet", "plugins/second");
        Names(c, SppSection.Helo).Should().Equal(" plugins/leading space");
        Names(c, SppSection.Mail).Should().BeEmpty();
        Names(c, SppSection.Data).Should().Equal("plugins/d");
        Names(c, SppSection.Auth).Should().Equal("plugins/a");
    }

    [Fact]
    public void Loading_honours_nospp_and_sppconffile_and_a_named_file_must_exist()
    {
        Directory.CreateDirectory(_home["control"]);
        var controls = new ControlReader(_home.Path);
        SppConfig.Load(controls, null, null).Should().BeNull("no control/smtpplugins: no plugins");
        File.WriteAllText(_home["control/smtpplugins"], "# comment\n[mail]\nplugins/m   \n\n");
        File.WriteAllText(_home["control/timeoutsmtpplugin"], "7\n");
        var c = SppConfig.Load(controls, null, null)!;
        Names(c, SppSection.Mail).Should().Equal("plugins/m");
        c.TimeoutSeconds.Should().Be(7);
        SppConfig.Load(controls, ""u8.ToArray(), null).Should().BeNull("NOSPP set, even empty, turns qmail-spp off");
        SppConfig.Load(controls, null, ""u8.ToArray()).Should().NotBeNull("an empty SPPCONFFILE is the default file");
        File.WriteAllText(_home["other"], "[rcpt]\nplugins/r\n");
        Names(SppConfig.Load(controls, null, "other"u8.ToArray())!, SppSection.Rcpt).Should().Equal("plugins/r");
        var missing = () => SppConfig.Load(controls, null, "control/nosuchfile"u8.ToArray());
        missing.Should().Throw<ControlMissingException>();
    }

    [Fact]
    public void Output_lines_lose_their_last_byte_and_reading_stops_at_the_first_terminal_command()
    {
        var lines = SppOutput.Read("\nX\nHX-A: 1\nP250-hello\nE553 no\nN\n"u8);
        lines.Select(l => (char)l.Command + Encoding.ASCII.GetString(l.Argument)).Should().Equal("X", "HX-A: 1", "P250-hello", "E553 no");
        SppOutput.Read("E550 cut"u8).Single().Argument.Should().Equal("550 cu"u8.ToArray(), "a last line without LF loses its last character");
        SppOutput.Read("A"u8).Should().BeEmpty("one byte without LF is no command");
    }

    private SmtpSession Session(string plugins, List<byte[]> environment, bool compat = false, Checkpassword? auth = null)
    {
        Directory.CreateDirectory(_home["control"]);
        File.WriteAllText(_home["control/me"], "mx.example\n");
        File.WriteAllText(_home["control/rcpthosts"], "example.com\n");
        File.WriteAllText(_home["control/" + SmtpdSettings.AuthTlsFile], "0\n");
        var controls = new ControlReader(_home.Path);
        var settings = SmtpdSettings.Read(controls, _home.Path, compat, dataBytesFromEnv: null);
        File.WriteAllText(_home["control/smtpplugins"], plugins);
        var client = new SmtpClientInfo("192.0.2.1"u8.ToArray(), "client.example"u8.ToArray(), null, "mx.example"u8.ToArray(), null);
        return new SmtpSession(settings, client, () =>
        {
            var sink = new Sink();
            _messages.Add(sink.Bytes);
            return sink;
        }, () => Now, auth: auth)
        {
            Spp = new SppSession(SppConfig.Load(controls, null, null)!, new SppEnvironment(environment),
                settings.Has(Standards.EnhancedStatusCodes), compat),
        };
    }

    private sealed class Sink : IMessageSink
    {
        public readonly List<byte> Bytes = new();
        public int Pid => 4242;
        public void Write(ReadOnlySpan<byte> data) => Bytes.AddRange(data.ToArray());
        public void Abort() { }
    }

    private static string Take(SmtpSession s)
    {
        var text = Encoding.Latin1.GetString(s.Output.ToArray());
        s.Output.Clear();
        return text;
    }

    /// <summary>The plugin the session waits for, which it asks to run as qmail-spp runs it.</summary>
    private static ChildRequest Plugin(SmtpSession s, SessionStep step, string line)
    {
        step.Should().Be(SessionStep.Effect);
        var request = s.PendingEffect.Should().BeOfType<SppPluginEffect>().Subject.Request;
        if (line.StartsWith(':')) request.Argv.Select(Encoding.ASCII.GetString).Should().Equal("/bin/sh", "-c", line[1..]);
        else request.Argv.Select(Encoding.ASCII.GetString).Should().Equal(line);
        request.Fds.Select(f => (f.Child, f.Kind)).Should().Equal((0, ChildFdKind.Closed), (1, ChildFdKind.Capture), (2, ChildFdKind.Pass));
        return request;
    }

    private static ChildResult Ran(ChildRequest request, string stdout, ChildEnd end = ChildEnd.Exited, int code = 0)
    {
        var captured = request.Fds.Select(f => f.Child == 1 ? Encoding.ASCII.GetBytes(stdout) : []).ToArray();
        return new ChildResult(end, code, request.Fds, captured, new bool[captured.Length]);
    }

    private static SessionStep Say(SmtpSession s, string line) => s.Command(Encoding.ASCII.GetBytes(line + "\r"));

    private static string Env(List<byte[]> env, string name) =>
        env.Select(Encoding.ASCII.GetString).SingleOrDefault(e => e.StartsWith(name + "=")) is { } e ? e[(name.Length + 1)..] : "(unset)";

    [Fact]
    public void A_connection_plugin_replaces_the_greeting_and_the_session_goes_on()
    {
        var env = new List<byte[]>();
        var s = Session("[connection]\nplugins/rbl\n", env);
        var rbl = Plugin(s, s.Greet(), "plugins/rbl");
        s.SppPluginDone(Ran(rbl, "P220-listed, but talk anyway\nE220 mx.example ESMTP spp\n")).Should().Be(SessionStep.Command);
        Take(s).Should().Be("220-listed, but talk anyway\r\n220 mx.example ESMTP spp\r\n");
        Say(s, "HELO c.example").Should().Be(SessionStep.Command);
        Take(s).Should().Be("250 mx.example\r\n");
    }

    [Fact]
    public void Rcpt_plugins_see_the_counters_change_the_address_add_headers_and_skip_rcpthosts()
    {
        var env = new List<byte[]> { "TCPREMOTEIP=192.0.2.1"u8.ToArray() };
        var s = Session("[rcpt]\nplugins/greytrap\nplugins/tagger\n[mail]\n:exec plugins/m\n", env);
        s.Greet();
        Say(s, "HELO c.example");
        var m = Plugin(s, Say(s, "MAIL FROM:<s@x.example>"), ":exec plugins/m");
        Env(env, "SMTPMAILFROM").Should().Be("s@x.example");
        Env(env, "SMTPHELOHOST").Should().Be("c.example");
        s.SppPluginDone(Ran(m, "Cnew@x.example\nSSPPSEEN=1\nUTCPREMOTEIP\n")).Should().Be(SessionStep.Command);
        Env(env, "SPPSEEN").Should().Be("1");
        Env(env, "TCPREMOTEIP").Should().Be("(unset)");

        var g = Plugin(s, Say(s, "RCPT TO:<old@example.com>"), "plugins/greytrap");
        (Env(env, "SMTPRCPTTO"), Env(env, "SMTPRCPTCOUNT"), Env(env, "SMTPRCPTCOUNTALL"), Env(env, "SMTPRCPTHOSTSOK"))
            .Should().Be(("old@example.com", "0", "1", "1"));
        s.SppPluginDone(Ran(g, "HX-Trap-Hit: old@example.com\nCquarantine@example.com\nN\nEignored\n")).Should().Be(SessionStep.Command);
        Env(env, "SMTPRCPTTO").Should().Be("quarantine@example.com");

        var g2 = Plugin(s, Say(s, "RCPT TO:<far@elsewhere.example>"), "plugins/greytrap");
        (Env(env, "SMTPRCPTCOUNT"), Env(env, "SMTPRCPTCOUNTALL"), Env(env, "SMTPRCPTHOSTSOK")).Should().Be(("1", "2", "0"));
        s.SppPluginDone(Ran(g2, "")).Should().Be(SessionStep.Effect, "no terminal command: the next plugin runs");
        var t = Plugin(s, SessionStep.Effect, "plugins/tagger");
        s.SppPluginDone(Ran(t, "O\n")).Should().Be(SessionStep.Command);

        var g3 = Plugin(s, Say(s, "RCPT TO:<other@elsewhere.example>"), "plugins/greytrap");
        s.SppPluginDone(Ran(g3, "", ChildEnd.Exited, 1)).Should().Be(SessionStep.Effect);
        s.SppPluginDone(Ran(Plugin(s, SessionStep.Effect, "plugins/tagger"), "N\n")).Should().Be(SessionStep.Command);
        Take(s).Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n" +
                            "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");

        Say(s, "DATA").Should().Be(SessionStep.Data);
        s.Data("Subject: x\r\n\r\nbody\r\n.\r\n"u8, out _).Should().Be(SessionStep.Effect);
        var commit = s.PendingEffect.Should().BeOfType<CommitMessageEffect>().Subject;
        commit.Envelope.Sender.Should().Equal("new@x.example"u8.ToArray());
        commit.Envelope.Recipients.Select(Encoding.ASCII.GetString).Should().Equal("quarantine@example.com", "far@elsewhere.example");
        var message = Encoding.ASCII.GetString(_messages.Single().ToArray());
        message.Should().MatchRegex("^Received: [^\n]*\n  by mx.example with SMTP; [^\n]*\nX-Trap-Hit: old@example.com\nSubject: x\n");
    }

    [Fact]
    public void Delayed_rejections_refuse_every_later_command_of_their_kind_until_rset()
    {
        var s = Session("[helo]\nplugins/h\n", new List<byte[]>());
        s.Greet();
        s.SppPluginDone(Ran(Plugin(s, Say(s, "HELO c.example"), "plugins/h"), "LR550 no recipients from you\nLD554 and no data\nLX ignored\n"));
        Say(s, "MAIL FROM:<s@x>");
        Say(s, "RCPT TO:<a@example.com>");
        Say(s, "RCPT TO:<b@example.com>");
        Say(s, "DATA");
        Say(s, "RSET");
        Say(s, "MAIL FROM:<s@x>");
        Say(s, "RCPT TO:<a@example.com>");
        Take(s).Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 2.1.0 ok\r\n550 no recipients from you\r\n550 no recipients from you\r\n" +
                            "503 5.5.1 RCPT first (#5.5.1)\r\n250 2.0.0 flushed\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n");
    }

    [Theory]
    [InlineData(false, "451 4.3.0 qmail-spp failure: plugins/x: can't execute (#4.3.0)\r\n")]
    [InlineData(true, "451 qmail-spp failure: plugins/x: can't execute (#4.3.0)\r\n")]
    public void Exit_120_refuses_with_qmail_spps_text_and_the_session_goes_on(bool compat, string reply)
    {
        var s = Session("[mail]\nplugins/x\n", new List<byte[]>(), compat);
        s.Greet();
        Say(s, "HELO c.example");
        Take(s);
        s.SppPluginDone(Ran(Plugin(s, Say(s, "MAIL FROM:<s@x>"), "plugins/x"), "N\n", ChildEnd.Exited, 120)).Should().Be(SessionStep.Command);
        Take(s).Should().Be(reply);
        s.SppPluginDone(Ran(Plugin(s, Say(s, "MAIL FROM:<s@x>"), "plugins/x"), "", ChildEnd.Signalled, 9));
        s.SppPluginDone(Ran(Plugin(s, Say(s, "MAIL FROM:<s@x>"), "plugins/x"), "", ChildEnd.TimedOut));
        s.SppPluginDone(Ran(Plugin(s, Say(s, "MAIL FROM:<s@x>"), "plugins/x"), "", ChildEnd.CouldNotStart, 2));
        Take(s).Should().Be(reply.Replace("can't execute", "child crashed") + reply.Replace("can't execute", "timed out") + reply);
    }

    [Fact]
    public void Accept_switches_plugins_off_for_the_session_and_disconnects_end_it()
    {
        var s = Session("[helo]\nplugins/h\n[mail]\nplugins/m\n", new List<byte[]>());
        s.Greet();
        s.SppPluginDone(Ran(Plugin(s, Say(s, "HELO c.example"), "plugins/h"), "A\n")).Should().Be(SessionStep.Command);
        Say(s, "HELO again.example").Should().Be(SessionStep.Command, "after A no plugin runs");
        Say(s, "MAIL FROM:<s@x>").Should().Be(SessionStep.Command);
        Take(s).Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 mx.example\r\n250 2.1.0 ok\r\n");

        var t = Session("[mail]\nplugins/m\n", new List<byte[]>());
        t.Greet();
        t.SppPluginDone(Ran(Plugin(t, Say(t, "MAIL FROM:<s@x>"), "plugins/m"), "R421 go away\n")).Should().Be(SessionStep.Close);
        t.ExitCode.Should().Be(0);
        Take(t).Should().Be("220 mx.example ESMTP\r\n421 go away\r\n");
    }

    [Fact]
    public void An_auth_plugin_sees_the_user_and_method_and_can_refuse_what_checkpassword_accepted()
    {
        var env = new List<byte[]>();
        var s = Session("[auth]\nplugins/a\n", env, auth: new Checkpassword("mx.example", ["/bin/checkpassword", "/bin/true"]));
        s.Greet();
        Say(s, "EHLO c.example");
        Take(s);
        var plain = Convert.ToBase64String("\0alice\0secret"u8.ToArray());
        Say(s, "AUTH PLAIN " + plain).Should().Be(SessionStep.Effect);
        var auth = s.PendingEffect.Should().BeOfType<AuthenticateEffect>().Subject;
        s.AuthenticateDone(Ran(auth.Request, "")).Should().Be(SessionStep.Effect, "checkpassword accepted: the [auth] plugins decide");
        (Env(env, "SMTPAUTHUSER"), Env(env, "SMTPAUTHMETHOD")).Should().Be(("alice", "plain"));
        s.SppPluginDone(Ran(Plugin(s, SessionStep.Effect, "plugins/a"), "E535 not you, not today\n")).Should().Be(SessionStep.Command);
        s.Authenticated.Should().BeFalse();
        Take(s).Should().Be("535 not you, not today\r\n");
    }
}
