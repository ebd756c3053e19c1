using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// qmail-spp plugins as sites run them: shell scripts in the home's plugins/
/// named in control/smtpplugins, doing what common published plugins do, in
/// both drivers, with the replies qmail-spp gives.
/// </summary>
public sealed class SppTests : IDisposable
{
    private readonly SmtpdHome _h = new();

    public void Dispose() => _h.Dispose();

    private void Plugin(string name, string script)
    {
        Directory.CreateDirectory(Path.Combine(_h.Home.Path, "plugins"));
        var path = Path.Combine(_h.Home.Path, "plugins", name);
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
    }

    /// <summary>
    /// Like the published badmailfrom-style and tagging plugins: E refuses a
    /// sender, H adds a header that reaches the queue, stderr is the log, and
    /// a whitelist at HELO says A so that no later plugin runs.
    /// </summary>
    private void CommonPlugins()
    {
        Plugin("whitelist", """case "$SMTPHELOHOST" in trusted.example) echo A ;; esac""");
        Plugin("badsender", """case "$SMTPMAILFROM" in *@spam.example) echo "E553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)" ;; esac""");
        Plugin("tagger", """
            echo "HX-Spp-Rcpt: $SMTPRCPTTO $SMTPRCPTCOUNT/$SMTPRCPTCOUNTALL/$SMTPRCPTHOSTSOK"
            echo "tagger: $SMTPRCPTTO from $TCPREMOTEIP" >&2
            """);
        Plugin("spamtrap", """case "$SMTPRCPTTO" in trap@*) echo "LD554 sorry, a spam trap is among the recipients (#5.7.1)" ;; esac""");
        _h.Home.WriteControl("smtpplugins", "[helo]\nplugins/whitelist\n[mail]\nplugins/badsender\n[rcpt]\nplugins/spamtrap\n:exec plugins/tagger\n");
    }

    [Theory, ForEachDriver]
    public void Published_style_plugins_refuse_a_sender_tag_the_message_and_log(SmtpdDriver driver)
    {
        CommonPlugins();
        var r = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<x@spam.example>\r\nMAIL FROM:<s@x.example>\r\n" +
                        "RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex("^220 mx.example ESMTP\r\n250 mx.example\r\n" +
                                  "553 sorry, your envelope sender is in my badmailfrom list \\(#5.7.1\\)\r\n" +
                                  "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        r.Err.Should().Contain("tagger: a@example.com from 127.0.0.1").And.Contain("tagger: b@example.com from 127.0.0.1");
        var message = SmtpdHome.S(_h.Queued().Single().Message).Split('\n');
        message[1].Should().StartWith("Received: from ");
        message[2].Should().StartWith("  by mx.example with SMTP; ");
        message[3..6].Should().Equal("X-Spp-Rcpt: a@example.com 0/1/1", "X-Spp-Rcpt: b@example.com 1/2/1", "Subject: hi");
    }

    [Theory, ForEachDriver]
    public void Accept_at_helo_switches_the_plugins_off_and_a_delayed_rejection_refuses_data(SmtpdDriver driver)
    {
        CommonPlugins();
        var trusted = _h.Talk(driver, "HELO trusted.example\r\nMAIL FROM:<x@spam.example>\r\nRCPT TO:<trap@example.com>\r\nQUIT\r\n", compat: true);
        trusted.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 ok\r\n250 ok\r\n221 mx.example\r\n");
        var trapped = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<trap@example.com>\r\nDATA\r\nRSET\r\n" +
                              "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n", compat: true);
        trapped.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 ok\r\n250 ok\r\n" +
                                "554 sorry, a spam trap is among the recipients (#5.7.1)\r\n250 flushed\r\n250 ok\r\n250 ok\r\n221 mx.example\r\n");
        _h.Queued().Should().BeEmpty();
    }

    [Theory]
    [ForEachDriver(true, "451 qmail-spp failure: plugins/broken: can't execute (#4.3.0)\r\n")]
    [ForEachDriver(false, "451 4.3.0 qmail-spp failure: plugins/broken: can't execute (#4.3.0)\r\n")]
    public void A_plugin_that_exits_120_or_is_missing_refuses_the_command_and_the_session_goes_on(SmtpdDriver driver, bool compat, string failure)
    {
        Plugin("broken", "echo E550 not this one; exit 120");
        _h.Home.WriteControl("smtpplugins", "[mail]\nplugins/broken\n[rcpt]\nplugins/missing\n");
        var r = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n", compat);
        var helo = "220 mx.example ESMTP\r\n250 mx.example\r\n";
        // qmail-spp sends E's text as it reads it, before it learns how the plugin ended.
        r.Out.Should().Be(helo + "550 not this one\r\n" + failure + (compat ? "503 MAIL first (#5.5.1)\r\n221 mx.example\r\n"
            : "503 5.5.1 MAIL first (#5.5.1)\r\n221 2.0.0 mx.example\r\n"));
        Plugin("broken", "exit 120");
        _h.Home.WriteControl("smtpplugins", "[rcpt]\nplugins/missing\n");
        r = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n", compat);
        r.Out.Should().Contain(failure.Replace("broken", "missing"));
    }

    [Theory, ForEachDriver]
    public void A_plugin_that_hangs_past_its_deadline_is_killed_and_the_command_tempfailed(SmtpdDriver driver)
    {
        Plugin("hang", "echo started >&2; sleep 60; echo N");
        _h.Home.WriteControl("smtpplugins", "[mail]\nplugins/hang\n");
        _h.Home.WriteControl("timeoutsmtpplugin", "1\n");
        var r = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nQUIT\r\n");
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n" +
                          "451 4.3.0 qmail-spp failure: plugins/hang: timed out (#4.3.0)\r\n221 2.0.0 mx.example\r\n");
        r.Err.Should().Contain("qmail-spp plugin plugins/hang timed out after 1 s: killed");
    }

    [Theory, ForEachDriver]
    public void Nospp_turns_the_plugins_off_and_a_missing_sppconffile_gets_qmails_421(SmtpdDriver driver)
    {
        Plugin("refuse", "echo E550 refused by a plugin");
        _h.Home.WriteControl("smtpplugins", "[helo]\nplugins/refuse\n");
        _h.Talk(driver, "HELO c.example\r\nQUIT\r\n").Out.Should().Be("220 mx.example ESMTP\r\n550 refused by a plugin\r\n221 2.0.0 mx.example\r\n");
        _h.Talk(driver, "HELO c.example\r\nQUIT\r\n", env: new Dictionary<string, string?> { ["NOSPP"] = "1" })
            .Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n221 2.0.0 mx.example\r\n");
        _h.Talk(driver, "HELO c.example\r\nQUIT\r\n", compat: true, env: new Dictionary<string, string?> { ["SPPCONFFILE"] = "control/nosuchfile" })
            .Out.Should().Be("421 unable to read controls (#4.3.0)\r\n");
    }

    [Theory, ForEachDriver]
    public void Set_and_reject_at_connect_then_disconnect_with_r_and_fd0_is_closed(SmtpdDriver driver)
    {
        Plugin("greet", "echo 'E554 not from here'; echo 'SSPPMARK=seen' >&2");
        Plugin("mark", "echo SSPPMARK=$TCPREMOTEIP");
        Plugin("bye", "if [ -e /proc/$$/fd/0 ]; then fd0=open; else fd0=closed; fi\necho \"R421 mark $SPPMARK, fd 0 $fd0, bye\"");
        _h.Home.WriteControl("smtpplugins", "[connection]\nplugins/mark\nplugins/greet\n[mail]\nplugins/bye\n");
        var r = _h.Talk(driver, "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\n", compat: true);
        r.Out.Should().Be("554 not from here\r\n250 mx.example\r\n421 mark 127.0.0.1, fd 0 closed, bye\r\n");
        r.ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task In_server_mode_a_running_plugin_holds_up_only_its_own_session()
    {
        using var scratch = new TempDir();
        var (started, release) = (scratch["started"], scratch["release"]);
        Plugin("waiter", $$"""
            case "$SMTPMAILFROM" in *@slow.example)
              touch '{{started}}'; n=0
              while [ ! -e '{{release}}' ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done ;;
            esac
            echo N
            """);
        _h.Home.WriteControl("smtpplugins", "[mail]\nplugins/waiter\n");
        _h.Home.WriteControl("timeoutsmtpplugin", "120\n");
        using var server = new ServerModeServer(_h.Home.Path, scratch.Path);
        var slow = Task.Run(() => server.Talk("HELO a.example\r\nMAIL FROM:<s@slow.example>\r\nQUIT\r\n"));
        Wait.Until(() => File.Exists(started), 60).Should().BeTrue("the slow session's plugin runs");

        var reply = "220 mx.example ESMTP\r\n250 mx.example\r\n250 2.1.0 ok\r\n221 2.0.0 mx.example\r\n";
        server.Talk("HELO b.example\r\nMAIL FROM:<s@fast.example>\r\nQUIT\r\n").Should().Be(reply);
        slow.IsCompleted.Should().BeFalse("its plugin still waits for the release");
        File.WriteAllText(release, "");
        (await slow.WaitAsync(TimeSpan.FromSeconds(60))).Should().Be(reply);
    }
}
