using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Sendmail;
using Jsmail.TestSupport;

namespace Jsmail.Inject.Tests;

/// <summary>jsmail-sendmail: its argv mapping (pure), and driven as cron and PHP drive it into a real queue.</summary>
public sealed class SendmailTests(InjectHome home) : IClassFixture<InjectHome>
{
    private static byte[] L(string s) => Encoding.Latin1.GetBytes(s);

    private static string Describe(SendmailPlan plan) => plan switch
    {
        SendmailPlan.Exec e => string.Join(" ", e.Argv.Select(a => Encoding.Latin1.GetString(a))) +
                               string.Concat(e.Environment.Select(v => v.Value == null ? $" -{v.Name}" : $" {v.Name}={Encoding.Latin1.GetString(v.Value)}")),
        SendmailPlan.Stop s => $"exit {s.ExitCode}: {s.Text}",
        _ => "?",
    };

    [Theory]
    [InlineData("sendmail -t -i", "bin/qmail-inject -H --")]
    [InlineData("sendmail -t -oi -oem", "bin/qmail-inject -H --")]
    [InlineData("sendmail rcpt@x.y", "bin/qmail-inject -a -- rcpt@x.y")]
    [InlineData("sendmail -FCronDaemon -i -B8BITMIME -oem root", "bin/qmail-inject -a -- root MAILNAME=CronDaemon")]
    [InlineData("sendmail -f s@x.y r", "bin/qmail-inject -a -f s@x.y -- r -QMAILNAME -MAILNAME -NAME -QMAILHOST -MAILHOST QMAILHOST=x.y QMAILUSER=s")]
    [InlineData("sendmail -fbounce r", "bin/qmail-inject -a -f bounce -- r -QMAILNAME -MAILNAME -NAME -QMAILHOST -MAILHOST QMAILUSER=bounce")]
    [InlineData("sendmail -v -m -x -e x -p x -bm -Efoo -J r", "bin/qmail-inject -a -- r")]
    [InlineData("sendmail -- -t", "bin/qmail-inject -a -- -t")]
    [InlineData("sendmail -bp", "bin/qmail-qread")]
    [InlineData("/usr/bin/mailq", "bin/qmail-qread")]
    [InlineData("sendmail -bs", "bin/qmail-smtpd RELAYCLIENT= DATABYTES=0 PROTO=TCP TCPLOCALIP=127.0.0.1 TCPLOCALHOST=localhost TCPREMOTEIP=127.0.0.1 TCPREMOTEHOST=localhost TCPREMOTEINFO=sendmail-bs")]
    [InlineData("sendmail -bx", "exit 100: " + SendmailCommand.Usage)]
    [InlineData("sendmail -q", "exit 100: " + SendmailCommand.Usage)]
    [InlineData("newaliases", "exit 100: sendmail: fatal: please use fastforward/newaliases instead\n")]
    public void Maps_argv(string command, string expected) =>
        Describe(SendmailCommand.Plan(command.Split(' ').Select(L).ToList(), _ => null, reportOptionProblems: false)).Should().Be(expected);

    [Fact]
    public void Bs_keeps_an_existing_connection_environment() =>
        Describe(SendmailCommand.Plan([L("sendmail"), L("-bs")], n => n == "PROTO" ? L("TCP") : null, false)).Should().Be("bin/qmail-smtpd");

    private List<QueueEnvelope> Queued(IEnumerable<string> before)
    {
        var old = before.ToHashSet();
        return home.Home.Entries("todo").Where(e => !old.Contains(e))
            .Select(e => QueueEnvelope.Decode(TodoEnvelope(home.Home.ReadQueueFile("todo/" + e)))).ToList();
    }

    // A todo file is u<uid>\0p<pid>\0 then the envelope's records, without the final NUL.
    private static byte[] TodoEnvelope(byte[] todo)
    {
        var first = Array.IndexOf(todo, (byte)0);
        var second = Array.IndexOf(todo, (byte)0, first + 1);
        return [.. todo[(second + 1)..], 0];
    }

    [Fact]
    public void Php_mail_sendmail_t_i_queues_to_the_header_recipients()
    {
        var before = home.Home.Entries("todo");
        var r = Run.Process(home.Home.Bin("sendmail"), ["-t", "-i"],
            L("To: php@x.example, other\nSubject: from php\n\nHello\n.\nmore\n"), InjectHome.CleanEnvironment());
        r.ExitCode.Should().Be(0, r.Err);
        var q = Queued(before);
        q.Should().HaveCount(1);
        Encoding.ASCII.GetString(q[0].Sender).Should().Be("joe@h.d.example");
        q[0].Recipients.Select(x => Encoding.ASCII.GetString(x)).Should().Equal("other@h.d.example", "php@x.example");
    }

    [Fact]
    public void Cron_sendmail_queues_to_the_argument_with_the_cron_name()
    {
        var before = home.Home.Entries("todo");
        var r = Run.Process(home.Home.Bin("sendmail"), ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"],
            L("To: root\nSubject: Cron <root@host> true\n\noutput\n"), InjectHome.CleanEnvironment());
        r.ExitCode.Should().Be(0, r.Err);
        var q = Queued(before);
        q.Should().HaveCount(1);
        q[0].Recipients.Select(x => Encoding.ASCII.GetString(x)).Should().Equal("root@h.d.example");
        var mess = home.Home.Entries("mess").Single(m => m.EndsWith("/" + Path.GetFileName(home.Home.Entries("todo").Except(before).Single()), StringComparison.Ordinal));
        Encoding.ASCII.GetString(home.Home.ReadQueueFile("mess/" + mess)).Should().Contain("From: \"CronDaemon\" <joe@h.d.example>\n");
    }

    [Fact]
    public void Sendmail_f_sets_the_envelope_sender_and_the_from()
    {
        var before = home.Home.Entries("todo");
        var env = InjectHome.CleanEnvironment();
        env["NAME"] = "Dropped Name";
        var r = Run.Process(home.Home.Bin("sendmail"), ["-f", "web@site.example", "rcpt@x.example"],
            L("Subject: hi\n\nbody\n"), env);
        r.ExitCode.Should().Be(0, r.Err);
        var q = Queued(before);
        q.Should().HaveCount(1);
        Encoding.ASCII.GetString(q[0].Sender).Should().Be("web@site.example");
        q[0].Recipients.Select(x => Encoding.ASCII.GetString(x)).Should().Equal("rcpt@x.example");
        var id = Path.GetFileName(home.Home.Entries("todo").Except(before).Single());
        var mess = home.Home.Entries("mess").Single(m => m.EndsWith("/" + id, StringComparison.Ordinal));
        Encoding.ASCII.GetString(home.Home.ReadQueueFile("mess/" + mess)).Should().Contain("From: web@site.example\n");
    }

    [Fact]
    public void Mailq_newaliases_and_bs_by_name_and_flag()
    {
        using var dir = new TempDir("sendmail-names");
        foreach (var n in new[] { "mailq", "newaliases" })
            File.CreateSymbolicLink(dir[n], home.Home.Bin("sendmail"));
        var qread = home.Home.Bin("qmail-qread");
        File.WriteAllText(qread, "#!/bin/sh\necho \"qread $PWD\"\n");
        File.SetUnixFileMode(qread, (UnixFileMode)0x1ED);
        var smtpd = home.Home.Bin("qmail-smtpd");
        File.WriteAllText(smtpd, "#!/bin/sh\necho \"smtpd $PROTO $TCPREMOTEINFO relay=${RELAYCLIENT+set}\"\n");
        File.SetUnixFileMode(smtpd, (UnixFileMode)0x1ED);
        try
        {
            var mailq = Run.Process(dir["mailq"], [], null, InjectHome.CleanEnvironment());
            mailq.Out.Should().Be($"qread {home.Home.Path}\n");
            Run.Process(home.Home.Bin("sendmail"), ["-bp"], null, InjectHome.CleanEnvironment()).Out.Should().Be($"qread {home.Home.Path}\n");
            var env = InjectHome.CleanEnvironment();
            env["PROTO"] = null;
            Run.Process(home.Home.Bin("sendmail"), ["-bs"], null, env).Out.Should().Be("smtpd TCP sendmail-bs relay=set\n");
            var na = Run.Process(dir["newaliases"], [], null, InjectHome.CleanEnvironment());
            na.ExitCode.Should().Be(100);
            na.Err.Should().Be("sendmail: fatal: please use fastforward/newaliases instead\n");
        }
        finally
        {
            File.Delete(qread);
            File.Delete(smtpd);
        }
        var missing = Run.Process(home.Home.Bin("sendmail"), ["-bp"], null, InjectHome.CleanEnvironment());
        missing.ExitCode.Should().Be(111);
        missing.Err.Should().Be("sendmail: fatal: unable to run qmail-qread\n");
    }

    [Fact]
    public void An_unknown_option_prints_getopt_and_usage()
    {
        var r = Run.Process(home.Home.Bin("sendmail"), ["-q"], L("x"), InjectHome.CleanEnvironment());
        r.ExitCode.Should().Be(100);
        r.Err.Should().Be("sendmail: illegal option -- q\n" + SendmailCommand.Usage);
    }

    [Fact]
    public void Install_links_bin_sendmail_to_the_wrapper() =>
        new FileInfo(home.Home.Bin("sendmail")).LinkTarget.Should().Be("jsmail-sendmail");
}
