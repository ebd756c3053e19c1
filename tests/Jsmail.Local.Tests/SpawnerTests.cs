using System.Text;
using Jsmail.LSpawn;
using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

public sealed class PrivilegedHomeFixture : IDisposable
{
    public TestHome Home { get; } = TestHome.Install(privileged: true);
    public Accounts Accounts { get; } = new();
    public void Dispose()
    {
        Accounts.Dispose();
        Home.Dispose();
    }
}

/// <summary>
/// jsmail-lspawn as root in a privileged install, delivering to real accounts
/// (§16 items 17–20), and the users tools.
/// </summary>
public class SpawnerTests(PrivilegedHomeFixture fixture) : IClassFixture<PrivilegedHomeFixture>
{
    private TestHome Home => fixture.Home;
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private const string Message = "From: a@example.com\nTo: b@example.org\nSubject: lspawn test\n\nbody line\nFrom the start\n";

    private string QueueMessage(string id)
    {
        var path = Home.Queue("mess/" + id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Message);
        Accounts.Sh($"chown qmailq '{path}'");
        return path;
    }

    private RunResult Lspawn(string commands) =>
        Run.Process(Home.Bin("jsmail-lspawn"), ["./Maildir/"], B(commands), timeoutMs: 60_000);

    private void Assign(string lines)
    {
        File.WriteAllText(Path.Combine(Home.Path, "users", "assign"), lines + ".\n");
        var r = Run.Process(Home.Bin("jsmail-newu"), []);
        r.ExitCode.Should().Be(0, r.Err);
    }

    private Accounts.User Recipient(string dotQmail)
    {
        var u = fixture.Accounts.Add("jsl");
        Accounts.Sh($"cd '{u.Home}' && {Home.Bin("jsmail-maildirmake")} Maildir && printf '%s' \"$1\" > .qmail && chown -R '{u.Name}:{u.Name}' . ", dotQmail);
        return u;
    }

    [Fact] // items 17 and 19, files owned by the recipient, a real mail reader
    public void Delivers_to_a_users_cdb_address_as_the_recipient()
    {
        var u = Recipient("./Maildir/\n./mbox\n");
        Assign($"={u.Name}x:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n");
        QueueMessage("20/457");
        var r = Lspawn($"\u000520/457\0s@x\0{u.Name.ToUpperInvariant()}X@y\0");
        r.ExitCode.Should().Be(0);
        r.Stdout[0].Should().Be(120);
        Encoding.Latin1.GetString(r.Stdout[1..]).Should().Be("\u0005Kdid 2+0+0\n\0");

        var file = Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Should().ContainSingle().Subject;
        Accounts.Sh($"stat -c %u:%g '{file}' '{u.Home}/mbox'").Out.Should().Be($"{u.Uid}:{u.Gid}\n{u.Uid}:{u.Gid}\n");
        File.ReadAllText(file).Should().Be($"Return-Path: <s@x>\nDelivered-To: {u.Name.ToUpperInvariant()}X@y\n" + Message);

        var shown = Accounts.Sh($"mlist '{u.Home}/Maildir' | mshow").Out;
        shown.Should().Contain("Subject: lspawn test").And.Contain("From: a@example.com").And.Contain("\nFrom the start\n");
        Accounts.Sh($"mlist '{u.Home}/Maildir' | xargs mhdr -h delivered-to").Out.Should().Be($"{u.Name.ToUpperInvariant()}X@y\n");

        var split = Path.Combine(u.Home, "frommbox");
        Accounts.Sh($"mkdir -p '{split}/cur' '{split}/new' '{split}/tmp' && mdeliver -M '{split}' < '{u.Home}/mbox'");
        var fromMbox = Accounts.Sh($"mlist '{split}' | mshow").Out;
        fromMbox.Should().Contain("Subject: lspawn test").And.Contain("\nFrom the start\n");
    }

    [Fact] // program runs with the recipient's uid, gid, no other groups, and the environment
    public void Program_delivery_runs_as_the_recipient()
    {
        var u = Recipient("|echo \"$(id -u) $(id -g) $(id -G)\"; echo \"$USER $HOME $LOCAL $EXT $SENDER\"\n");
        Accounts.Sh($"usermod -aG qmail '{u.Name}'");
        Assign($"+{u.Name}-:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:-::\n");
        QueueMessage("3/1003");
        var r = Lspawn($"\u00073/1003\0s@x\0{u.Name}-Ext@y\0");
        Encoding.Latin1.GetString(r.Stdout[1..]).Should().Be("\u0007DSorry, no mailbox here by that name. (#5.1.1)\n\0");
        Accounts.Sh($"cp '{u.Home}/.qmail' '{u.Home}/.qmail-ext' && chown {u.Name} '{u.Home}/.qmail-ext'");
        r = Lspawn($"\u00073/1003\0s@x\0{u.Name}-Ext@y\0");
        Encoding.Latin1.GetString(r.Stdout[1..]).Should().Be(
            $"\u0007K{u.Uid} {u.Gid} {u.Gid}\n{u.Name} {u.Home} {u.Name}-Ext Ext s@x\ndid 0+0+1\n\0");
    }

    [Fact] // item 17, 18 and the spawner's refusals
    public void Spawner_protocol_refusals_and_trash_address()
    {
        QueueMessage("20/458");
        var r = Lspawn("\u000520/458\0s@x\0nohost\0" + "\u0006\0s@x\0u@y\0" + "\u007920/458\0s@x\0u@y\0" +
            "\u0008ab\0s@x\0u@y\0" + "\u000920\0s@x\0u@y\0" + "\u000a1/999999\0s@x\0u@y\0" + "\u000b20/458\0s@x\0@trash\0");
        r.ExitCode.Should().Be(0);
        var results = Encoding.Latin1.GetString(r.Stdout[1..]).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order().ToList();
        results.Should().BeEquivalentTo(
            "\u0005DSorry, address must include host name. (#5.1.3)\n",
            "\u0006DInternal error: messid too short. (#5.3.5)\n",
            "\u0079ZInternal error: delnum too big. (#4.3.5)\n",
            "\u0008DInternal error: messid has nonnumerics. (#5.3.5)\n",
            "\u0009ZSorry, message has wrong type. (#4.3.5)\n",
            "\u000aZqmail-spawn unable to open message. (#4.3.0)\n",
            "\u000bK");
    }

    [Fact] // per-process mode: users/cdb deliveries run qmail-local straight from jsmail-lspawn; others through its delivery child
    public void Users_cdb_delivery_starts_qmail_local_without_a_delivery_child()
    {
        Home.WriteControl("localinprocess", "0\n");
        using var inProcessAgain = new Cleanup(() => File.Delete(Home.Control("localinprocess")));
        var u = Recipient("./Maildir/\n");
        Assign($"={u.Name}:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n");
        QueueMessage("21/460");
        using var dir = new TempDir("jsmail-strace");
        var log = Path.Combine(dir.Path, "exec");
        var r = Run.Process("strace", ["-f", "-qq", "-s", "512", "-e", "trace=execve", "-o", log, Home.Bin("jsmail-lspawn"), "./Maildir/"],
            B($"\u000521/460\0s@x\0{u.Name}@y\0" + "\u000621/460\0s@x\0nosuchbox-zz@y\0"), timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        var results = Encoding.Latin1.GetString(r.Stdout[1..]).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        results.Should().Contain("\u0005Kdid 1+0+0\n");
        Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Should().ContainSingle();

        var execs = File.ReadAllLines(log).Where(l => l.Contains("execve(")).ToList();
        execs.Should().ContainSingle(l => l.Contains("execve(\"bin/qmail-local\"") && l.Contains($"\"{u.Name}\", \"{u.Home}\""),
            "the users/cdb delivery runs qmail-local directly");
        execs.Where(l => l.Contains(LocalChannel.ChildMarker)).Should().ContainSingle(
            "only the address users/cdb does not know goes through the delivery child (qmail-getpw decides)");
        execs.Where(l => l.Contains(LocalChannel.ChildMarker)).Single().Should().Contain("nosuchbox-zz@y");
    }

    [Fact] // qmail-lspawn's child refuses root even when users/cdb names it
    public void Users_cdb_assignment_to_root_is_refused()
    {
        Assign("=rootbox:root:0:0:/root:::\n");
        QueueMessage("22/461");
        var r = Lspawn("\u000522/461\0s@x\0rootbox@y\0");
        Encoding.Latin1.GetString(r.Stdout[1..]).Should().Be("\u0005ZNot allowed to perform deliveries as root.\n\0");
    }

    [Fact] // exec failure from the direct start reports as the child's would: hard for ENOENT
    public void Missing_qmail_local_is_a_hard_failure()
    {
        var u = Recipient("./Maildir/\n");
        Assign($"={u.Name}:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n");
        QueueMessage("23/462");
        var local = Home.Bin("qmail-local");
        File.Move(local, local + ".away");
        try
        {
            var r = Lspawn($"\u000523/462\0s@x\0{u.Name}@y\0");
            Encoding.Latin1.GetString(r.Stdout[1..]).Should().Be("\u0005DUnable to run qmail-local.\n\0");
        }
        finally { File.Move(local + ".away", local); }
    }
}

file sealed class Cleanup(Action action) : IDisposable
{
    public void Dispose() => action();
}
