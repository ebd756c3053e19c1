using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

public sealed class LocalHomeFixture : IDisposable
{
    public TestHome Home { get; } = TestHome.Install(privileged: false);
    public void Dispose() => Home.Dispose();
}

/// <summary>jsmail-local run directly, as qmail's dot-qmail(5) test idiom does (§16 items 21–30, bad input).</summary>
public class LocalProgramTests(LocalHomeFixture fixture) : IClassFixture<LocalHomeFixture>, IDisposable
{
    private readonly TempDir _dir = new("jsmail-local");
    private string Mail => Path.Combine(_dir.Path, "home");
    private const string Message = "From: a@example.com\nSubject: hello\n\nbody\nFrom here\n";

    public void Dispose() => _dir.Dispose();

    private RunResult Local(string local, string dash, string ext, string message = Message, string sender = "s@example.com",
        string dd = "./Maildir/", string? opt = null, string? home = null, Dictionary<string, string?>? env = null)
    {
        Directory.CreateDirectory(Mail);
        var msg = Path.Combine(_dir.Path, "msg-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(msg, message);
        var args = new List<string> { msg, fixture.Home.Bin("jsmail-local") };
        if (opt != null) args.Add(opt);
        args.AddRange(["u", home ?? Mail, local, dash, ext, "example.org", sender, dd]);
        return Run.Shell("m=$1; shift; exec \"$@\" < \"$m\"", env: env, timeoutMs: 30_000, args: [.. args]);
    }

    private void DotQmail(string name, string content, int mode = 0x1A4)
    {
        Directory.CreateDirectory(Mail);
        var p = Path.Combine(Mail, name);
        File.WriteAllText(p, content);
        File.SetUnixFileMode(p, (UnixFileMode)mode);
    }

    private void Maildir(string name = "Maildir")
    {
        foreach (var d in new[] { "tmp", "new", "cur" }) Directory.CreateDirectory(Path.Combine(Mail, name, d));
    }

    private string[] New(string name = "Maildir") => Directory.GetFiles(Path.Combine(Mail, name, "new"));

    [Fact] // item 21
    public void Dash_n_prints_instructions_and_does_nothing()
    {
        DotQmail(".qmail", "# c\n./Maildir/\n./mbox\n|echo hi\n&a@b\nc@d\n");
        var r = Local("u", "", "", opt: "-n");
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("maildir ./Maildir/\nmbox ./mbox\nprogram echo hi\nforward a@b\nforward c@d\ndid 2+2+1\n");
        File.Exists(Path.Combine(Mail, "mbox")).Should().BeFalse();
    }

    [Fact] // item 22
    public void Default_files_in_order_and_DEFAULT_only_for_them()
    {
        DotQmail(".qmail-a-default", "|echo \"a-default:$DEFAULT:$EXT2\"\n");
        DotQmail(".qmail-default", "|echo \"default:$DEFAULT\"\n");
        DotQmail(".qmail-x:y", "|echo \"exact:${DEFAULT-unset}\"\n");
        Local("u-a-b-c", "-", "a-b-C").Out.Should().Be("a-default:b-C:b-C\ndid 0+0+1\n");
        Local("u-q", "-", "q").Out.Should().Be("default:q\ndid 0+0+1\n");
        Local("u-X.Y", "-", "X.Y", env: new() { ["DEFAULT"] = "inherited" }).Out.Should().Be("exact:unset\ndid 0+0+1\n");
    }

    [Fact] // item 23
    public void Missing_ext_file_is_permanent_and_missing_dot_qmail_uses_default_delivery()
    {
        var r = Local("u-nope", "-", "nope");
        (r.ExitCode, r.Err).Should().Be((100, "Sorry, no mailbox here by that name. (#5.1.1)\n"));
        Maildir();
        r = Local("u", "", "");
        (r.ExitCode, r.Out).Should().Be((0, "did 1+0+0\n"));
        New().Should().HaveCount(1);
    }

    [Theory] // item 24
    [InlineData(0x1B6, 0x1ED, "Uh-oh: .qmail file is writable. (#4.7.0)\n")]
    [InlineData(0x1A4, 0x1FF, "Uh-oh: home directory is writable. (#4.7.0)\n")]
    [InlineData(0x1A4, 0x3ED, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)\n")]
    public void Writable_or_sticky_is_temporary(int fileMode, int homeMode, string text)
    {
        DotQmail(".qmail", "./Maildir/\n", fileMode);
        File.SetUnixFileMode(Mail, (UnixFileMode)homeMode);
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((111, text));
    }

    [Theory] // item 25
    [InlineData("|echo x\n", "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n")]
    [InlineData("./Maildir/\n", "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n")]
    [InlineData("+list\n|echo x\n", "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n")]
    public void Forward_only_refuses_files_and_programs(string content, string text)
    {
        DotQmail(".qmail", content, content.StartsWith('+') ? 0x1A4 : 0x1E4);
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((111, text));
    }

    [Fact] // item 26
    public void Looping_message_is_bounced()
    {
        Maildir();
        var r = Local("u", "", "", message: "X: y\nDelivered-To: u@example.org\n\nbody\n");
        (r.ExitCode, r.Err).Should().Be((100, "This message is looping: it already has my Delivered-To line. (#5.4.6)\n"));
        Local("u", "", "", message: "X: y\n\nDelivered-To: u@example.org\n").ExitCode.Should().Be(0, "only the header counts");
    }

    [Theory] // item 27
    [InlineData(0, 0, "did 0+0+2\n")]
    [InlineData(99, 0, "did 0+0+1\n")]
    [InlineData(100, 100, "")]
    [InlineData(64, 100, "")]
    [InlineData(65, 100, "")]
    [InlineData(70, 100, "")]
    [InlineData(76, 100, "")]
    [InlineData(77, 100, "")]
    [InlineData(78, 100, "")]
    [InlineData(112, 100, "")]
    [InlineData(1, 111, "")]
    [InlineData(111, 111, "")]
    public void Program_exit_codes(int code, int exit, string did)
    {
        DotQmail(".qmail", $"|echo out; echo err >&2; exit {code}\n|echo second\n");
        var r = Local("u", "", "");
        r.ExitCode.Should().Be(exit);
        r.Out.Should().Be("out\n" + (code == 0 ? "second\n" : "") + did);
        r.Err.Should().Be("err\n");
    }

    [Fact]
    public void Program_killed_is_a_crash()
    {
        DotQmail(".qmail", "|kill -9 $$\n");
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((111, "Aack, child crashed. (#4.3.0)\n"));
    }

    [Fact] // item 28
    public void Maildir_file_has_return_path_and_delivered_to()
    {
        Maildir();
        var r = Local("u", "", "");
        r.ExitCode.Should().Be(0, r.Err);
        var files = New();
        files.Should().ContainSingle();
        Path.GetFileName(files[0]).Should().MatchRegex(@"^\d+\.\d+\." + System.Text.RegularExpressions.Regex.Escape(Environment.MachineName));
        File.ReadAllText(files[0]).Should().Be("Return-Path: <s@example.com>\nDelivered-To: u@example.org\n" + Message);
        Directory.GetFiles(Path.Combine(Mail, "Maildir", "tmp")).Should().BeEmpty();
        ((int)File.GetUnixFileMode(files[0]) & 0x1FF).Should().Be(0x180);
    }

    [Fact] // item 29
    public void Mbox_gets_from_line_quoting_final_lf_and_blank_line()
    {
        DotQmail(".qmail", "./mbox\n");
        var r = Local("u", "", "", message: "S: x\n\nFrom me\n>From you\nlast", sender: "");
        r.ExitCode.Should().Be(0, r.Err);
        var mbox = File.ReadAllText(Path.Combine(Mail, "mbox"));
        mbox.Should().MatchRegex(@"^From MAILER-DAEMON [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4}\n");
        mbox[mbox.IndexOf('\n')..].Should().Be("\nReturn-Path: <>\nDelivered-To: u@example.org\nS: x\n\n>From me\n>>From you\nlast\n\n");
        ((int)File.GetUnixFileMode(Path.Combine(Mail, "mbox")) & 0x1FF).Should().Be(0x180);
    }

    private (string Message, string Envelope, RunResult Result) Forwarded(string ownerFiles, string sender)
    {
        DotQmail(".qmail-list", "&a@x\nb@y\n");
        foreach (var f in ownerFiles.Split(' ', StringSplitOptions.RemoveEmptyEntries)) DotQmail(f, "./x\n");
        var capture = Path.Combine(_dir.Path, "capture");
        File.WriteAllText(capture, $"#!/bin/sh\ncat > '{_dir.Path}/fwd-msg'\nexec 3<&1\ncat <&3 > '{_dir.Path}/fwd-env'\n");
        File.SetUnixFileMode(capture, (UnixFileMode)0x1ED);
        var r = Local("u-list", "-", "list", sender: sender, env: new() { ["QMAILQUEUE"] = capture });
        return (File.ReadAllText(Path.Combine(_dir.Path, "fwd-msg")), File.ReadAllText(Path.Combine(_dir.Path, "fwd-env")), r);
    }

    [Theory] // item 30
    [InlineData("", "s@example.com", "s@example.com")]
    [InlineData(".qmail-list-owner", "s@example.com", "u-list-owner@example.org")]
    [InlineData(".qmail-list-owner .qmail-list-owner-default", "s@example.com", "u-list-owner-@example.org-@[]")]
    [InlineData(".qmail-list-owner", "", "")]
    [InlineData(".qmail-list-owner", "#@[]", "#@[]")]
    public void Forwarding_prepends_only_delivered_to_with_the_right_sender(string owners, string sender, string newSender)
    {
        var (msg, env, r) = Forwarded(owners, sender);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().MatchRegex(@"^did 0\+2\+0\nqp \d+\n$");
        msg.Should().Be("Delivered-To: u-list@example.org\n" + Message);
        env.Should().Be($"F{newSender}\0Ta@x\0Tb@y\0\0");
    }

    [Theory] // SMTPUTF8 (RFC 6531/6532), and the bytes qmail passes under JSMAIL_COMPAT=qmail
    [InlineData(false)]
    [InlineData(true)]
    public void A_UTF8_local_part_finds_its_qmail_file_and_every_byte_is_kept(bool compat)
    {
        var utf8 = new UTF8Encoding(false);
        Directory.CreateDirectory(Mail);
        Maildir();
        // a Latin-1 maildir name (not UTF-8) must reach chdir as its bytes
        Run.Shell("cd \"$1\" && d=$(printf 'M\\344il') && mkdir \"$d\" \"$d/tmp\" \"$d/new\" \"$d/cur\"", args: Mail).ExitCode.Should().Be(0);
        var dotQmail = Path.Combine(Mail, ".qmail-jösé");
        File.WriteAllBytes(dotQmail, [.. utf8.GetBytes("./Maildir/\n./M"), 0xE4, .. utf8.GetBytes("il/\n&far@x.example\n")]);
        File.SetUnixFileMode(dotQmail, (UnixFileMode)0x1A4);
        var capture = Path.Combine(_dir.Path, "capture");
        File.WriteAllText(capture, $"#!/bin/sh\ncat > /dev/null\nexec 3<&1\ncat <&3 > '{_dir.Path}/fwd-env'\n");
        File.SetUnixFileMode(capture, (UnixFileMode)0x1ED);

        var r = Local("u-JöSé", "-", "JöSé", message: "From: Jörg <sénder@x.example>\nSubject: Grüße\n\nbody\n", sender: "sénder@x.example",
            env: new() { ["QMAILQUEUE"] = capture, ["JSMAIL_COMPAT"] = compat ? "qmail" : null });
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().MatchRegex(@"^did 2\+1\+0\nqp \d+\n$", "the ASCII letters of JöSé were lowercased, ö and é kept");

        var returnPath = compat ? "<\"sénder\"@x.example>" : "<sénder@x.example>"; // qmail quotes every 8-bit local part
        var delivered = File.ReadAllText(New().Single(), utf8);
        delivered.Should().Be($"Return-Path: {returnPath}\nDelivered-To: u-JöSé@example.org\nFrom: Jörg <sénder@x.example>\nSubject: Grüße\n\nbody\n");
        Run.Shell("ls \"$1\"/$(printf 'M\\344il')/new | wc -l", args: Mail).Out.Trim().Should().Be("1");
        var envelope = File.ReadAllBytes(Path.Combine(_dir.Path, "fwd-env"));
        byte[] plain = [.. utf8.GetBytes("Fsénder@x.example\0Tfar@x.example\0\0")];
        envelope.Should().Equal(compat ? plain : [.. plain, .. "X1\0MSMTPUTF8\0\0"u8.ToArray()],
            "a forward of a UTF-8 message is marked as needing SMTPUTF8, except as qmail");
    }

    [Fact]
    public void Forward_refused_by_the_queue_reports_its_text()
    {
        DotQmail(".qmail", "&" + new string('a', 1990) + "@x\n");
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((100, "Unable to forward message: envelope address too long for qq (#5.1.3).\n"));
    }

    private string QueueThatReadsNothing(int exitCode)
    {
        var q = Path.Combine(_dir.Path, $"queue-exit-{exitCode}");
        File.WriteAllText(q, $"#!/bin/sh\nexit {exitCode}\n");
        File.SetUnixFileMode(q, (UnixFileMode)0x1ED);
        return q;
    }

    [Fact]
    public void Forward_follows_the_exit_of_a_queue_program_that_reads_nothing()
    {
        // It exits before or after our writes, by chance: the broken pipe must never decide the outcome.
        DotQmail(".qmail", "&a@x\n");
        var queue = QueueThatReadsNothing(0);
        for (var run = 0; run < 50; run++)
        {
            var r = Local("u", "", "", env: new() { ["QMAILQUEUE"] = queue });
            (r.ExitCode, r.Err).Should().Be((0, ""), $"run {run}");
            r.Out.Should().MatchRegex(@"^did 0\+1\+0\nqp \d+\n$");
        }
    }

    [Theory]
    [InlineData(31, 100, "mail server permanently rejected message (#5.3.0)")]
    [InlineData(53, 111, "qq write error or disk full (#4.3.0)")]
    public void Forward_refused_by_a_queue_program_that_reads_nothing_reports_its_exit(int exit, int code, string text)
    {
        DotQmail(".qmail", "&a@x\n");
        var queue = QueueThatReadsNothing(exit);
        for (var run = 0; run < 10; run++)
        {
            var r = Local("u", "", "", env: new() { ["QMAILQUEUE"] = queue });
            (r.ExitCode, r.Err).Should().Be((code, $"Unable to forward message: {text}.\n"), $"run {run}");
        }
    }

    [Fact]
    public void Nul_in_a_line_ends_it_as_in_qmails_c_strings()
    {
        var evil = Path.Combine(_dir.Path, "evil");
        DotQmail(".qmail", $"|echo hi\0; touch {evil}\n\0|touch {evil}\n");
        var r = Local("u", "", "");
        (r.ExitCode, r.Out).Should().Be((0, "hi\ndid 0+0+1\n"));
        File.Exists(evil).Should().BeFalse();
    }

    [Fact]
    public void Very_long_lines_fail_cleanly()
    {
        DotQmail(".qmail", "|echo " + new string('x', 200_000) + "\n");
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((111, "Unable to run /bin/sh: argument list too long. (#4.3.0)\n"));
    }

    [Fact]
    public void First_line_blank_is_refused()
    {
        DotQmail(".qmail", "\n./Maildir/\n");
        (Local("u", "", "").Err).Should().Be("Uh-oh: first line of .qmail file is blank. (#4.2.1)\n");
    }

    [Fact]
    public void Home_symlink_is_followed_and_its_target_checked()
    {
        var target = Path.Combine(_dir.Path, "target");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)0x1FF);
        var link = Path.Combine(_dir.Path, "link");
        File.CreateSymbolicLink(link, target);
        var r = Local("u", "", "", home: link);
        (r.ExitCode, r.Err).Should().Be((111, "Uh-oh: home directory is writable. (#4.7.0)\n"));
        var dangling = Path.Combine(_dir.Path, "dangling");
        File.CreateSymbolicLink(dangling, Path.Combine(_dir.Path, "nowhere"));
        r = Local("u", "", "", home: dangling);
        (r.ExitCode, r.Err).Should().Be((111, $"Unable to switch to {dangling}: file does not exist. (#4.3.0)\n"));
    }

    [Fact]
    public void Maildir_without_tmp_is_temporary_and_leaves_nothing()
    {
        Directory.CreateDirectory(Path.Combine(Mail, "Maildir", "new"));
        var r = Local("u", "", "");
        (r.ExitCode, r.Err).Should().Be((111, "Temporary error on maildir delivery. (#4.3.0)\n"));
        New().Should().BeEmpty();
        Local("u", "", "", dd: "./NoSuch/").Err.Should().Be("Unable to chdir to maildir. (#4.2.1)\n");
    }

    [Fact]
    public void Full_disk_leaves_no_partial_file()
    {
        var mnt = Path.Combine(_dir.Path, "small");
        Directory.CreateDirectory(mnt);
        Accounts.Sh($"mount -t tmpfs -o size=64k,mode=0755 tmpfs '{mnt}'");
        try
        {
            foreach (var d in new[] { "tmp", "new", "cur" }) Directory.CreateDirectory(Path.Combine(mnt, "Maildir", d));
            var big = "Subject: big\n\n" + new string('x', 200_000) + "\n";
            var r = Local("u", "", "", message: big, home: mnt);
            (r.ExitCode, r.Err).Should().Be((111, "Temporary error on maildir delivery. (#4.3.0)\n"));
            Directory.GetFiles(Path.Combine(mnt, "Maildir", "new")).Should().BeEmpty();
            Directory.GetFiles(Path.Combine(mnt, "Maildir", "tmp")).Should().BeEmpty();
            File.WriteAllText(Path.Combine(mnt, ".qmail"), "./mbox\n");
            File.WriteAllText(Path.Combine(mnt, "mbox"), "");
            r = Local("u", "", "", message: big, home: mnt);
            (r.ExitCode, r.Err).Should().Be((111, "Unable to write ./mbox: out of disk space. (#4.3.0)\n"));
            new FileInfo(Path.Combine(mnt, "mbox")).Length.Should().Be(0, "the mbox is cut back");
        }
        finally { Run.Shell($"umount '{mnt}'"); }
    }

    [Fact]
    public void Hanging_program_is_killed_after_timeoutlocal()
    {
        fixture.Home.WriteControl("timeoutlocal", "1\n");
        try
        {
            DotQmail(".qmail", "|sleep 60\n");
            var r = Local("u", "", "");
            (r.ExitCode, r.Err, r.TimedOut).Should().Be((111, "Timeout on program delivery. (#4.3.0)\n", false));
        }
        finally { File.Delete(fixture.Home.Control("timeoutlocal")); }
    }

    [Theory]
    [InlineData("../../../etc/x")]
    [InlineData("a/../../b")]
    public void Extension_with_slash_or_dots_stays_inside_home(string ext)
    {
        var r = Local("u-" + ext, "-", ext);
        (r.ExitCode, r.Err).Should().Be((100, "Sorry, no mailbox here by that name. (#5.1.1)\n"));
        DotQmail(".qmail-default", "./Maildir/\n");
        Maildir();
        r = Local("u-" + ext, "-", ext);
        r.ExitCode.Should().Be(0, r.Err);
        New().Should().ContainSingle();
        Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(Mail, StringComparison.Ordinal) && !Path.GetFileName(p).StartsWith("msg-", StringComparison.Ordinal))
            .Should().BeEmpty("nothing is written outside the recipient's home");
    }
}
