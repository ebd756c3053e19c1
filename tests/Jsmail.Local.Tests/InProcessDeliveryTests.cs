using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

/// <summary>
/// jsmail-lspawn's in-process deliveries against jsmail-local's (issue 16 §4):
/// the same message to the same recipient, once with control/localinprocess 0
/// (jsmail-local per delivery, as qmail) and once in-process, must leave the
/// same files (content, name pattern, owner, mode), the same report and the
/// same number of fsyncs; strace shows which way each went. (Its own home: a
/// class fixture is made per class.)
/// </summary>
public class InProcessDeliveryTests(PrivilegedHomeFixture fixture) : IClassFixture<PrivilegedHomeFixture>
{
    private TestHome Home => fixture.Home;
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private const string Message = "From: a@example.com\nTo: b@example.org\nSubject: in-process\n\nbody\nFrom the start\n>From quoted\nlast line without LF";

    private sealed record Outcome(string Report, List<string> Execs, int Fsyncs);

    /// <summary>One delivery by jsmail-lspawn under strace, in the given mode.</summary>
    private Outcome Deliver(bool inProcess, string messageId, string recipient, IDictionary<string, string?>? env = null)
    {
        Home.WriteControl("localinprocess", inProcess ? "1\n" : "0\n");
        var path = Home.Queue("mess/" + messageId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Message);
        Accounts.Sh($"chown qmailq '{path}'");
        using var dir = new TempDir("jsmail-strace");
        var log = Path.Combine(dir.Path, "trace");
        var r = Run.Process("strace", ["-f", "-qq", "-s", "512", "-e", "trace=execve,fsync,fdatasync", "-o", log,
            Home.Bin("jsmail-lspawn"), "./Maildir/"], B($"\u0003{messageId}\0s@x.example\0{recipient}\0"), env, timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        r.Stdout[0].Should().Be(120);
        var lines = File.ReadAllLines(log);
        var execs = lines.Where(l => l.Contains("execve(") && !l.Contains($"execve(\"{Home.Bin("jsmail-lspawn")}\""))
            .Where(l => !l.Contains("= -1")).ToList();
        var fsyncs = lines.Count(l => Regex.IsMatch(l, @"\b(fsync|fdatasync)\(\d+\)\s+= 0"));
        return new Outcome(Encoding.Latin1.GetString(r.Stdout[1..]), execs, fsyncs);
    }

    private Accounts.User NewUser(string dotQmailName, string content)
    {
        var u = fixture.Accounts.Add("jip");
        Accounts.Sh($"cd '{u.Home}' && {Home.Bin("jsmail-maildirmake")} Maildir && chown -R '{u.Name}:{u.Name}' .");
        if (dotQmailName.Length > 0)
            Accounts.Sh($"cd '{u.Home}' && printf '%s' \"$1\" > '{dotQmailName}' && chown '{u.Name}:{u.Name}' '{dotQmailName}' && chmod 644 '{dotQmailName}'", content);
        return u;
    }

    private void Assign(string lines)
    {
        File.WriteAllText(Path.Combine(Home.Path, "users", "assign"), lines + ".\n");
        var r = Run.Process(Home.Bin("jsmail-newu"), []);
        r.ExitCode.Should().Be(0, r.Err);
    }

    /// <summary>name, owner uid:gid and mode of each file, and its bytes.</summary>
    private static (string Name, string Meta, byte[] Bytes) Describe(string file) =>
        (Path.GetFileName(file), Accounts.Sh($"stat -c '%u:%g %a' '{file}'").Out.Trim(), File.ReadAllBytes(file));

    [Theory]
    //          users/cdb  .qmail file        its content               address suffix
    [InlineData(false,     "",                "",                       "")]          // defaultdelivery
    [InlineData(false,     ".qmail",          "./Maildir/\n./mbox\n",   "")]
    [InlineData(false,     ".qmail-ext",      "./Maildir/\n./mbox\n",   "-Ext")]
    [InlineData(false,     ".qmail-default",  "# c\n./mbox\n./Maildir/\n", "-any-thing")]
    [InlineData(true,      "",                "",                       "")]
    [InlineData(true,      ".qmail",          "./Maildir/\n./mbox\n",   "")]
    [InlineData(true,      ".qmail-ext",      "./Maildir/\n./mbox\n",   "-Ext")]
    [InlineData(true,      ".qmail-default",  "# c\n./mbox\n./Maildir/\n", "-any-thing")]
    public void In_process_files_are_jsmail_locals(bool usersCdb, string dotQmail, string content, string suffix)
    {
        var u = NewUser(dotQmail, content);
        var local = u.Name;
        if (usersCdb)
        {
            // users/cdb: another address for the same account, exact and wildcard
            local = "box" + u.Name[3..];
            Assign($"={local}:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n+{local}-:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:-::\n");
        }
        var recipient = $"{local}{suffix}@d.example";
        var mbox = Path.Combine(u.Home, "mbox");
        var newDir = Path.Combine(u.Home, "Maildir", "new");

        var perProcess = Deliver(inProcess: false, "7/2001", recipient);
        var firstFiles = Directory.GetFiles(newDir).Select(Describe).ToList();
        var firstMbox = File.Exists(mbox) ? Describe(mbox) : default;
        var inProcess = Deliver(inProcess: true, "7/2001", recipient);
        var secondFiles = Directory.GetFiles(newDir).Where(f => firstFiles.All(x => x.Name != Path.GetFileName(f))).Select(Describe).ToList();

        var did = content.Contains("mbox") ? "2" : "1";
        perProcess.Report.Should().Be($"\u0003Kdid {did}+0+0\n\0");
        inProcess.Report.Should().Be(perProcess.Report);
        perProcess.Execs.Should().ContainSingle(l => l.Contains("execve(\"bin/qmail-local\""), "per-process mode runs jsmail-local");
        inProcess.Execs.Should().BeEmpty("the delivery was made in jsmail-lspawn itself");
        inProcess.Fsyncs.Should().Be(perProcess.Fsyncs).And.Be(int.Parse(did), "one fsync per file written, none added");

        firstFiles.Should().ContainSingle();
        secondFiles.Should().ContainSingle();
        var (a, b) = (firstFiles[0], secondFiles[0]);
        var host = System.Net.Dns.GetHostName();
        foreach (var name in new[] { a.Name, b.Name }) name.Should().MatchRegex($@"^\d+\.\d+\.{Regex.Escape(host)}$");
        a.Meta.Should().Be($"{u.Uid}:{u.Gid} 600").And.Be(b.Meta);
        b.Bytes.Should().Equal(a.Bytes);
        Encoding.Latin1.GetString(b.Bytes).Should().StartWith($"Return-Path: <s@x.example>\nDelivered-To: {recipient}\nFrom: a@example.com\n");

        if (!content.Contains("mbox")) return;
        var both = Describe(mbox);
        both.Meta.Should().Be($"{u.Uid}:{u.Gid} 600").And.Be(firstMbox.Meta);
        both.Bytes.AsSpan(0, firstMbox.Bytes.Length).SequenceEqual(firstMbox.Bytes).Should().BeTrue("the first delivery is kept as it was");
        var second = both.Bytes.AsSpan(firstMbox.Bytes.Length).ToArray();
        // The From_ line carries the delivery's time: the same format, the rest byte for byte.
        var fromLine = new Regex(@"^From s@x\.example [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n");
        var (m1, m2) = (fromLine.Match(Encoding.Latin1.GetString(firstMbox.Bytes)), fromLine.Match(Encoding.Latin1.GetString(second)));
        m1.Success.Should().BeTrue();
        m2.Success.Should().BeTrue();
        second.AsSpan(m2.Length).SequenceEqual(firstMbox.Bytes.AsSpan(m1.Length)).Should().BeTrue("mbox entries equal after the From_ line");
        Encoding.Latin1.GetString(second).Should().Contain("\n>From the start\n>>From quoted\nlast line without LF\n\n");
    }

    [Fact] // a program line: the delivery still goes through jsmail-local, as the recipient
    public void A_program_line_still_runs_jsmail_local()
    {
        var u = NewUser(".qmail", "./Maildir/\n|echo \"$(id -u):$(id -g) $PPID\" > marker\n");
        var r = Deliver(inProcess: true, "7/2002", $"{u.Name}@d.example");
        r.Report.Should().Be("\u0003Kdid 1+0+1\n\0");
        r.Execs.Should().Contain(l => l.Contains("execve(\"bin/qmail-local\"") && l.Contains($"\"{u.Name}\", \"{u.Home}\""));
        var marker = Path.Combine(u.Home, "marker");
        File.ReadAllText(marker).Should().StartWith($"{u.Uid}:{u.Gid} ");
        Accounts.Sh($"stat -c %u:%g '{marker}'").Out.Should().Be($"{u.Uid}:{u.Gid}\n");
        Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Should().ContainSingle("written once, by jsmail-local");
    }

    [Fact] // the reports jsmail-local gives before the first instruction, in-process or not
    public void Failures_report_as_jsmail_local()
    {
        var u = NewUser(".qmail-ext", "./Maildir/\n");
        var perProcess = Deliver(inProcess: false, "7/2003", $"{u.Name}-other@d.example");
        var inProcess = Deliver(inProcess: true, "7/2003", $"{u.Name}-other@d.example");
        perProcess.Report.Should().Be("\u0003DSorry, no mailbox here by that name. (#5.1.1)\n\0");
        inProcess.Report.Should().Be(perProcess.Report);

        Accounts.Sh($"chmod 0646 '{u.Home}/.qmail-ext'");
        perProcess = Deliver(inProcess: false, "7/2004", $"{u.Name}-ext@d.example");
        inProcess = Deliver(inProcess: true, "7/2004", $"{u.Name}-ext@d.example");
        perProcess.Report.Should().Be("\u0003ZUh-oh: .qmail file is writable. (#4.7.0)\n\0");
        inProcess.Report.Should().Be(perProcess.Report);

        Accounts.Sh($"chmod 0644 '{u.Home}/.qmail-ext' && rm -rf '{u.Home}/Maildir'");
        perProcess = Deliver(inProcess: false, "7/2005", $"{u.Name}-ext@d.example");
        inProcess = Deliver(inProcess: true, "7/2005", $"{u.Name}-ext@d.example");
        perProcess.Report.Should().Be("\u0003ZUnable to chdir to maildir. (#4.2.1)\n\0");
        inProcess.Report.Should().Be(perProcess.Report);
        inProcess.Execs.Should().BeEmpty();

        perProcess = Deliver(inProcess: false, "7/2006", "nosuchuser-zz9@d.example");
        inProcess = Deliver(inProcess: true, "7/2006", "nosuchuser-zz9@d.example");
        inProcess.Report.Should().Be(perProcess.Report);
        perProcess.Execs.Should().Contain(l => l.Contains("execve(\"bin/qmail-getpw\""));
        inProcess.Execs.Should().NotContain(l => l.Contains("qmail-getpw") || l.Contains(Jsmail.LSpawn.LocalChannel.ChildMarker),
            "the passwd match is made in-process, as jsmail-getpw makes it");
    }

    [Fact] // JSMAIL_COMPAT=qmail: one qmail-local per delivery even with control/localinprocess 1
    public void Compat_mode_runs_jsmail_local_per_delivery()
    {
        var u = NewUser("", "");
        var r = Deliver(inProcess: true, "7/2007", $"{u.Name}@d.example", new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = "qmail" });
        r.Report.Should().Be("\u0003Kdid 1+0+0\n\0");
        r.Execs.Should().ContainSingle(l => l.Contains("execve(\"bin/qmail-local\""));
        Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Should().ContainSingle();
    }

    [Theory] // deliveries that end together share one sync of their filesystem, unless control/localsharedsync is 0
    [InlineData(true)]
    [InlineData(false)]
    public void Deliveries_ending_together_share_syncs_unless_switched_off(bool shared)
    {
        const int count = 30;
        var u = NewUser("", "");
        Home.WriteControl("localinprocess", "1\n");
        Home.WriteControl("localsharedsync", shared ? "1\n" : "0\n");
        try
        {
            var path = Home.Queue("mess/7/2010");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Message);
            Accounts.Sh($"chown qmailq '{path}'");
            var commands = string.Concat(Enumerable.Range(1, count).Select(slot => $"{(char)slot}7/2010\0s@x.example\0{u.Name}@d.example\0"));
            using var dir = new TempDir("jsmail-strace");
            var log = Path.Combine(dir.Path, "trace");
            var r = Run.Process("strace", ["-f", "-qq", "-e", "trace=execve,fsync,fdatasync,syncfs", "-o", log,
                Home.Bin("jsmail-lspawn"), "./Maildir/"], B(commands), timeoutMs: 120_000);
            r.ExitCode.Should().Be(0, r.Err);
            Encoding.Latin1.GetString(r.Stdout[1..]).Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(report => report[1..]).Should().HaveCount(count).And.OnlyContain(report => report == "Kdid 1+0+0\n");

            var files = Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Select(Describe).ToList();
            files.Should().HaveCount(count);
            files.Should().OnlyContain(f => f.Meta == $"{u.Uid}:{u.Gid} 600" &&
                Encoding.Latin1.GetString(f.Bytes).EndsWith("\nlast line without LF"));
            Directory.GetFiles(Path.Combine(u.Home, "Maildir", "tmp")).Should().BeEmpty();

            var lines = File.ReadAllLines(log);
            lines.Where(l => l.Contains("execve(") && !l.Contains(Home.Bin("jsmail-lspawn"))).Should().BeEmpty("every delivery was in-process");
            // each call's first line: whole, or "<unfinished ...>" when another thread's call came between
            var fsyncs = lines.Count(l => Regex.IsMatch(l, @"^\d+\s+(fsync|fdatasync)\(\d+"));
            var syncfs = lines.Count(l => Regex.IsMatch(l, @"^\d+\s+syncfs\(\d+"));
            lines.Where(l => Regex.IsMatch(l, @"sync.*= -1")).Should().BeEmpty();
            if (shared)
            {
                syncfs.Should().BeGreaterThan(0, "deliveries that asked while a sync ran shared the next one");
                (fsyncs + syncfs).Should().BeLessThan(count);
            }
            else
            {
                fsyncs.Should().Be(count, "one fsync per file, as jsmail-local");
                syncfs.Should().Be(0);
            }
        }
        finally
        {
            File.Delete(Home.Control("localsharedsync"));
        }
    }
}
