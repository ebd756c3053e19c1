using Jsmail.Common.Os;

namespace Jsmail.Local.Tests;

/// <summary>
/// ThreadCredentials changes the calling thread and nothing else: the kernel's
/// view of each task (/proc/self/task/TID/status) shows the dropped ids on the
/// thread and root on the main thread; the thread's chdir and umask stay its own.
/// </summary>
public class ThreadCredentialsTests
{
    private const uint Nobody = 65534;

    private static Dictionary<string, string> Status(int tid) =>
        File.ReadAllLines($"/proc/self/task/{tid}/status")
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => string.Join(' ', p[1].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)));

    /// <summary>Runs <paramref name="change"/> on a new thread, then <paramref name="inspect"/> from the test's thread while that one still lives.</summary>
    private static void OnThread(Func<int> change, Action<int, int> inspect)
    {
        using var changed = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int tid = 0, result = -1;
        var t = new Thread(() =>
        {
            tid = Libc.Gettid();
            result = change();
            changed.Set();
            release.Wait(TimeSpan.FromSeconds(30));
        });
        t.Start();
        try
        {
            changed.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
            inspect(tid, result);
        }
        finally
        {
            release.Set();
            t.Join(TimeSpan.FromSeconds(30)).Should().BeTrue();
        }
    }

    [Fact]
    public void Drop_changes_only_the_calling_thread()
    {
        Libc.Geteuid().Should().Be(0u, "the tests run as root");
        var mainTid = Libc.Getpid();
        var mainBefore = Status(mainTid);
        OnThread(() => ThreadCredentials.Drop(Nobody, Nobody, [Nobody, 100]), (tid, result) =>
        {
            result.Should().Be(0);
            tid.Should().NotBe(mainTid);
            var thread = Status(tid);
            thread["Uid"].Should().Be("65534 65534 65534 65534"); // real, effective, saved, filesystem
            thread["Gid"].Should().Be("65534 65534 65534 65534");
            thread["Groups"].Should().Be("100 65534");
            var main = Status(mainTid);
            main["Uid"].Should().Be(mainBefore["Uid"]).And.Be("0 0 0 0");
            main["Gid"].Should().Be(mainBefore["Gid"]);
            main["Groups"].Should().Be(mainBefore["Groups"]);
            Libc.Geteuid().Should().Be(0u, "the test's own thread is still root");
        });
    }

    [Fact]
    public void A_dropped_thread_cannot_get_root_back_and_is_refused_roots_files()
    {
        using var dir = new Jsmail.TestSupport.TempDir("jsmail-thread");
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var outcome = "";
        OnThread(() =>
        {
            var dropped = ThreadCredentials.Drop(Nobody, Nobody, [Nobody]);
            var regained = ThreadCredentials.Regain();
            var fd = Libc.Open(System.Text.Encoding.UTF8.GetBytes(Path.Combine(dir.Path, "f")),
                Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
            outcome = $"{dropped} {regained} {(fd < 0 ? Libc.Errno : 0)}";
            if (fd >= 0) Libc.Close(fd);
            return 0;
        }, (_, _) => { });
        outcome.Should().Be($"0 {Errno.EPERM} {Errno.EACCES}");
        File.Exists(Path.Combine(dir.Path, "f")).Should().BeFalse();
    }

    [Fact]
    public void Borrow_keeps_the_saved_uid_and_regain_restores_root()
    {
        OnThread(() => ThreadCredentials.Borrow(Nobody, Nobody), (tid, result) =>
        {
            result.Should().Be(0);
            Status(tid)["Uid"].Should().Be("65534 65534 0 65534");
            Status(tid)["Gid"].Should().Be("65534 65534 0 65534");
        });
        OnThread(() => ThreadCredentials.Borrow(Nobody, Nobody) | ThreadCredentials.Regain(), (tid, result) =>
        {
            result.Should().Be(0);
            Status(tid)["Uid"].Should().Be("0 0 0 0");
        });
    }

    [Fact]
    public void A_separate_filesystem_context_keeps_chdir_and_umask_on_the_thread()
    {
        var cwd = Directory.GetCurrentDirectory();
        var umask = Status(Libc.Getpid())["Umask"];
        using var dir = new Jsmail.TestSupport.TempDir("jsmail-thread");
        OnThread(() =>
        {
            if (ThreadCredentials.SeparateFilesystemContext() != 0) return -1;
            Libc.Umask(umask == "0077" ? 0x12u : 0x3Fu);
            return Libc.Chdir(dir.Path);
        }, (tid, result) =>
        {
            result.Should().Be(0);
            new DirectoryInfo($"/proc/self/task/{tid}/cwd").ResolveLinkTarget(false)!.FullName.Should().Be(dir.Path);
            Status(tid)["Umask"].Should().Be(umask == "0077" ? "0022" : "0077");
            Directory.GetCurrentDirectory().Should().Be(cwd);
            Status(Libc.Getpid())["Umask"].Should().Be(umask);
        });
    }
}
