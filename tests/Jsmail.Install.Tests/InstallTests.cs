using Jsmail.TestSupport;

// Every test here changes accounts or runs install.sh as root: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Jsmail.Install.Tests;

/// <summary>
/// scripts/install.sh against the tree of interfaces §14.2. The tests run as
/// root (as the test command does here); the single-user and refusal cases drop
/// to a dedicated unprivileged account, jsmailtest.
/// </summary>
public class InstallTests
{
    private const int TimeoutMs = 120_000;
    private const string TestUser = "jsmailtest";
    private static readonly string[] Users = ["alias", "qmaild", "qmaill", "qmailp", "qmailq", "qmailr", "qmails"];

    private static readonly Lazy<(string User, string Group)> TestAccount = new(CreateTestUser);

    // ---------------------------------------------------------------- (a)

    [Fact]
    public void SingleUserInstallByAnUnprivilegedUserOwnsEverythingAndSetsNoSetuidBit()
    {
        var account = TestAccount.Value;
        using var tmp = new TempDir("jsmail-install");
        var (script, prebuilt) = Stage(tmp);
        var parent = tmp["owned"];
        Directory.CreateDirectory(parent);
        Chown(account.User, parent);
        var prefix = Path.Combine(parent, "home");

        var r = AsTestUser(tmp.Path, script, "--single-user", "--prefix", prefix, "--prebuilt", prebuilt);

        r.ExitCode.Should().Be(0, "stderr: {0}", r.Err);
        r.Err.Should().BeEmpty();
        var tree = Tree.Read(prefix);
        var expected = Expected.Home(Expected.Programs(Repo.PublishedDir), account);
        Tree.Same(expected, tree);
        tree.Values.Should().OnlyContain(e => e.Owner == account.User && e.Group == account.Group);
        tree.Values.Should().NotContain(e => (Convert.ToInt32(e.Mode, 8) & 0x800) != 0, "no setuid bit in single-user mode");
        CheckContents(prefix);
    }

    // ---------------------------------------------------------------- (b)

    [Fact]
    public void PrivilegedInstallCreatesTheAccountsAndTheTreeOfSection14()
    {
        using var tmp = new TempDir("jsmail-install");
        var prefix = tmp["qmail"];

        var (r, created) = InstallAsRoot(prefix);

        r.ExitCode.Should().Be(0, "stderr: {0}", r.Err);
        r.Err.Should().BeEmpty();
        var qmailGid = GroupId("qmail");
        var nofilesGid = GroupId("nofiles");
        foreach (var u in Users)
        {
            var pw = Getent("passwd", u);
            pw.Should().NotBeNull("install.sh creates the account {0}", u);
            var gid = pw![3];
            gid.Should().Be(u is "qmailq" or "qmailr" or "qmails" ? qmailGid : nofilesGid, "the primary group of {0}", u);
        }
        foreach (var (u, pw) in created)
        {
            pw[5].Should().Be(u == "alias" ? prefix + "/alias" : prefix, "the home of the new account {0}", u);
            pw[6].Should().EndWith("nologin");
        }

        var tree = Tree.Read(prefix);
        Tree.Same(Expected.Home(Expected.Programs(Repo.PublishedDir)), tree);
        tree["bin/jsmail-queue"].Attributes.Should().Be("qmailq:qmail 4711 f");
        tree["queue/lock/trigger"].Type.Should().Be('p');
        CheckContents(prefix);
    }

    [Fact]
    public void ControlFilesAreDerivedFromAnExistingMeAsConfigFastDoes()
    {
        using var tmp = new TempDir("jsmail-install");
        var prefix = tmp["qmail"];
        Directory.CreateDirectory(Path.Combine(prefix, "control"));
        File.WriteAllText(Path.Combine(prefix, "control/me"), "mail.example.com\n");
        File.WriteAllText(Path.Combine(prefix, "control/locals"), "kept.example\n");

        var (r, _) = InstallAsRoot(prefix);

        r.ExitCode.Should().Be(0, "stderr: {0}", r.Err);
        string Control(string f) => File.ReadAllText(Path.Combine(prefix, "control", f));
        Control("me").Should().Be("mail.example.com\n");
        Control("defaultdomain").Should().Be("example.com\n");
        Control("plusdomain").Should().Be("example.com\n");
        Control("locals").Should().Be("kept.example\n", "an existing control file is never rewritten");
        Control("rcpthosts").Should().Be("mail.example.com\n");
    }

    // ---------------------------------------------------------------- (c)

    [Fact]
    public void RerunUpgradesTheBinariesAndKeepsQueueAndControlContents()
    {
        using var tmp = new TempDir("jsmail-install");
        var prefix = tmp["qmail"];
        InstallAsRoot(prefix).Result.ExitCode.Should().Be(0);

        var queueBin = Path.Combine(prefix, "bin/jsmail-queue");
        File.WriteAllText(queueBin, "junk\n");
        var oldInode = Inode(queueBin);
        var planted = Path.Combine(prefix, "queue/todo/4711");
        File.WriteAllText(planted, "u0\0p0\0Fa@b\0Tc@d\0\0");
        File.WriteAllText(Path.Combine(prefix, "control/me"), "edited.example\n");
        File.Delete(Path.Combine(prefix, "bin/qmail-queue"));
        File.WriteAllText(Path.Combine(prefix, "bin/qmail-queue"), "a real qmail program\n");

        var (r, _) = InstallAsRoot(prefix);

        r.ExitCode.Should().Be(0, "stderr: {0}", r.Err);
        File.ReadAllBytes(queueBin).Should().Equal(File.ReadAllBytes(Path.Combine(Repo.PublishedDir, "jsmail-queue")));
        Inode(queueBin).Should().NotBe(oldInode, "the new binary is renamed into place, not written over the old one");
        File.ReadAllText(planted).Should().Be("u0\0p0\0Fa@b\0Tc@d\0\0");
        File.ReadAllText(Path.Combine(prefix, "control/me")).Should().Be("edited.example\n");
        File.ReadAllText(Path.Combine(prefix, "bin/qmail-queue.orig")).Should().Be("a real qmail program\n");

        var tree = Tree.Read(prefix);
        var expected = Expected.Home(Expected.Programs(Repo.PublishedDir));
        foreach (var ours in new[] { "queue/todo/4711", "bin/qmail-queue.orig" })
            if (tree.TryGetValue(ours, out var e)) expected[ours] = e.Attributes;
        Tree.Same(expected, tree);
    }

    // ---------------------------------------------------------------- (d)

    [Fact]
    public void BinariesOnlyRefusesAHomeWithoutAQueueAndCreatesNothing()
    {
        using var tmp = new TempDir("jsmail-install");
        var prefix = tmp["qmail"];
        Directory.CreateDirectory(Path.Combine(prefix, "control"));
        var before = Tree.Read(tmp.Path);

        var (r, _) = InstallAsRoot(prefix, "--binaries-only");

        r.ExitCode.Should().NotBe(0);
        r.Err.Should().StartWith("install.sh: fatal: ").And.Contain("queue");
        Tree.Read(tmp.Path).Should().Equal(before);
    }

    [Fact]
    public void BinariesOnlyOnAnExistingHomeChangesOnlyBinAndAddsTheExtAndRparamStores()
    {
        using var tmp = new TempDir("jsmail-install");
        var prefix = tmp["qmail"];
        InstallAsRoot(prefix).Result.ExitCode.Should().Be(0);

        // an older home: no queue/ext, queue/rparam, queue/mta-sts or queue/tlsrpt, a stale program, local changes outside bin/
        Run.Process("rm", ["-rf", Path.Combine(prefix, "queue/ext"), Path.Combine(prefix, "queue/rparam"), Path.Combine(prefix, "queue/mta-sts"),
            Path.Combine(prefix, "queue/tlsrpt")]).ExitCode.Should().Be(0);
        File.WriteAllText(Path.Combine(prefix, "bin/jsmail-queue"), "junk\n");
        File.WriteAllText(Path.Combine(prefix, "queue/todo/4711"), "planted");
        File.WriteAllText(Path.Combine(prefix, "control/me"), "edited.example\n");
        File.Delete(Path.Combine(prefix, "control/rcpthosts"));
        File.SetUnixFileMode(Path.Combine(prefix, "queue/todo"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var before = Tree.Read(prefix);

        var (r, _) = InstallAsRoot(prefix, "--binaries-only");

        r.ExitCode.Should().Be(0, "stderr: {0}", r.Err);
        var after = Tree.Read(prefix);
        static bool Bin(string p) => p == "bin" || p.StartsWith("bin/", StringComparison.Ordinal);
        static bool Ext(string p) => p is "queue/ext" or "queue/rparam" or "queue/mta-sts" or "queue/tlsrpt" ||
                                     p.StartsWith("queue/ext/", StringComparison.Ordinal) ||
                                     p.StartsWith("queue/rparam/", StringComparison.Ordinal);
        // the queue directory itself gains entries (ext, rparam), so its mtime moves
        static Entry NoTime(Entry e) => e with { MTime = e.Type == 'd' ? "" : e.MTime };
        after.Where(kv => !Bin(kv.Key) && !Ext(kv.Key)).ToDictionary(kv => kv.Key, kv => NoTime(kv.Value))
            .Should().Equal(before.Where(kv => !Bin(kv.Key)).ToDictionary(kv => kv.Key, kv => NoTime(kv.Value)));
        File.ReadAllText(Path.Combine(prefix, "control/me")).Should().Be("edited.example\n");
        File.ReadAllBytes(Path.Combine(prefix, "bin/jsmail-queue"))
            .Should().Equal(File.ReadAllBytes(Path.Combine(Repo.PublishedDir, "jsmail-queue")));

        var expected = Expected.Home(Expected.Programs(Repo.PublishedDir));
        var binAndExt = expected.Where(kv => Bin(kv.Key) || Ext(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        Tree.Same(binAndExt, after.Where(kv => Bin(kv.Key) || Ext(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value));
        after["queue/ext"].Attributes.Should().Be(after["queue/mess"].Attributes);
    }

    // ---------------------------------------------------------------- (e)

    [Fact]
    public void PrivilegedInstallWithoutRootExits100AndCreatesNothing()
    {
        var account = TestAccount.Value;
        using var tmp = new TempDir("jsmail-install");
        var (script, prebuilt) = Stage(tmp);
        var parent = tmp["owned"];
        Directory.CreateDirectory(parent);
        Chown(account.User, parent);
        var prefix = Path.Combine(parent, "home");

        var r = AsTestUser(tmp.Path, script, "--prefix", prefix, "--prebuilt", prebuilt);

        r.ExitCode.Should().Be(100, "stdout: {0} stderr: {1}", r.Out, r.Err);
        r.Err.Should().StartWith("install.sh: fatal: ").And.Contain("root");
        Directory.EnumerateFileSystemEntries(parent).Should().BeEmpty();
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--prefix")]
    [InlineData("--prebuilt", "/nonexistent/jsmail")]
    [InlineData("--prefix", "/")]
    public void BadArgumentsExit100BeforeDoingAnything(params string[] args)
    {
        using var tmp = new TempDir("jsmail-install");
        var r = Run.Process("bash", new[] { Repo.Script("install.sh") }.Concat(args), cwd: tmp.Path, timeoutMs: TimeoutMs);
        r.ExitCode.Should().Be(100, "stderr: {0}", r.Err);
        r.Err.Should().Contain("install.sh: fatal: ");
        Directory.EnumerateFileSystemEntries(tmp.Path).Should().BeEmpty();
    }

    // ---------------------------------------------------------------- helpers

    private static void CheckContents(string prefix)
    {
        var tcpto = File.ReadAllBytes(Path.Combine(prefix, "queue/lock/tcpto"));
        tcpto.Should().HaveCount(1024).And.OnlyContain(b => b == 0);
        File.ReadAllBytes(Path.Combine(prefix, "queue/lock/sendmutex")).Should().BeEmpty();
        var me = File.ReadAllText(Path.Combine(prefix, "control/me"));
        me.Should().MatchRegex(@"^[^\s/]+\n$");
        File.ReadAllText(Path.Combine(prefix, "control/locals")).Should().Be(me);
        File.ReadAllText(Path.Combine(prefix, "control/rcpthosts")).Should().Be(me);
        foreach (var p in Expected.Programs(Repo.PublishedDir))
        {
            var link = new FileInfo(Path.Combine(prefix, "bin", Expected.QmailName(p)));
            link.LinkTarget.Should().Be("jsmail-" + p, "{0} is a relative link beside its program", Expected.QmailName(p));
            File.ReadAllBytes(link.FullName).Should().Equal(File.ReadAllBytes(Path.Combine(Repo.PublishedDir, "jsmail-" + p)));
        }
    }

    /// <summary>
    /// Runs install.sh as root. Accounts it creates get a temporary prefix as
    /// their home; once the caller has seen them they are pointed at
    /// /var/qmail, the real default, so that no test leaves a dangling home.
    /// </summary>
    private static (RunResult Result, List<(string User, string[] Passwd)> Created) InstallAsRoot(string prefix, params string[] extra)
    {
        RequireRoot();
        Expected.Programs(Repo.PublishedDir).Should().NotBeEmpty("scripts/publish.sh puts jsmail-* into {0}", Repo.PublishedDir);
        var missing = Users.Where(u => Getent("passwd", u) == null).ToList();
        var r = Run.Process("bash",
            new[] { Repo.Script("install.sh"), "--prefix", prefix, "--prebuilt", Repo.PublishedDir }.Concat(extra),
            timeoutMs: TimeoutMs);
        r.TimedOut.Should().BeFalse();
        var created = new List<(string, string[])>();
        foreach (var u in missing)
            if (Getent("passwd", u) is { } pw)
            {
                created.Add((u, pw));
                Run.Process("usermod", ["-d", u == "alias" ? "/var/qmail/alias" : "/var/qmail", u]);
            }
        return (r, created);
    }

    /// <summary>A copy of install.sh and the published programs that the test user can read.</summary>
    private static (string Script, string Prebuilt) Stage(TempDir tmp)
    {
        var scripts = Directory.CreateDirectory(tmp["scripts"]).FullName;
        var script = Path.Combine(scripts, "install.sh");
        File.Copy(Repo.Script("install.sh"), script);
        var prebuilt = Directory.CreateDirectory(tmp["prebuilt"]).FullName;
        var programs = Expected.Programs(Repo.PublishedDir).ToList();
        programs.Should().NotBeEmpty("scripts/publish.sh puts jsmail-* into {0}", Repo.PublishedDir);
        foreach (var p in programs)
            File.Copy(Path.Combine(Repo.PublishedDir, "jsmail-" + p), Path.Combine(prebuilt, "jsmail-" + p));
        Run.Process("chmod", ["-R", "a+rX", scripts, prebuilt]).ExitCode.Should().Be(0);
        return (script, prebuilt);
    }

    private static RunResult AsTestUser(string cwd, string script, params string[] args)
    {
        RequireRoot();
        var r = Run.Process("setpriv",
            new[] { $"--reuid={TestUser}", $"--regid={TestUser}", "--init-groups", "bash", script }.Concat(args),
            cwd: cwd, timeoutMs: TimeoutMs);
        r.TimedOut.Should().BeFalse();
        return r;
    }

    private static (string User, string Group) CreateTestUser()
    {
        RequireRoot();
        var r = Run.Shell($"""
            getent passwd {TestUser} >/dev/null ||
              useradd --system --user-group --no-create-home --shell /usr/sbin/nologin {TestUser} ||
              getent passwd {TestUser} >/dev/null || exit 1
            id -gn {TestUser}
            """, timeoutMs: TimeoutMs);
        r.ExitCode.Should().Be(0, "the test account {0} must exist: {1}", TestUser, r.Err);
        return (TestUser, r.Out.Trim());
    }

    private static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("the install tests create accounts and change owners: run them as root");
    }

    private static void Chown(string user, string path) =>
        Run.Process("chown", [user, path]).ExitCode.Should().Be(0);

    private static string[]? Getent(string db, string name)
    {
        var r = Run.Process("getent", [db, name]);
        return r.ExitCode == 0 ? r.Out.TrimEnd('\n').Split(':') : null;
    }

    private static string GroupId(string group) =>
        (Getent("group", group) ?? throw new InvalidOperationException($"group {group} is missing"))[2];

    private static string Inode(string path) => Run.Process("stat", ["-c", "%i", path]).Out.Trim();
}
