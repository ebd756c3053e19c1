using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Jsmail.Common.Os;

namespace Jsmail.Common.Tests.Os;

/// <summary>
/// The group commit of jsmail-lspawn's in-process deliveries, with the sync
/// calls watched (and held where a test needs a sync to be running): a lone
/// file is fsynced; files whose threads ask while a sync runs share one
/// syncfs through the file opened first; a failure fails every member; a
/// sync of one filesystem never waits for another's.
/// </summary>
public sealed class SharedFileSyncTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jsmail-sync").FullName;
    private readonly string _shm = Path.Combine("/dev/shm", "jsmail-sync-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ManualResetEventSlim _release = new(false);
    private readonly List<int> _fds = [];

    public void Dispose()
    {
        _release.Set();
        foreach (var fd in _fds) Libc.Close(fd);
        Directory.Delete(_dir, true);
        if (Directory.Exists(_shm)) Directory.Delete(_shm, true);
    }

    /// <summary>Opens and writes a file the way a delivery does: the opening taken just before the open.</summary>
    private (int Fd, long Opening) Written(SharedFileSync sync, string dir, string name)
    {
        var opening = sync.Opening();
        var fd = Libc.Open(Path.Combine(dir, name), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1A4);
        fd.Should().BeGreaterThan(2);
        _fds.Add(fd);
        Libc.WriteAll(fd, "a message\n"u8.ToArray()).Should().BeTrue();
        return (fd, opening);
    }

    /// <summary>A sync call that is recorded, and held until released when <paramref name="hold"/> says so.</summary>
    private Func<int, int> Watched(string name, Func<int, bool>? hold = null, int errno = 0) => fd =>
    {
        _calls.Enqueue($"{name} {fd}");
        if (hold?.Invoke(fd) == true) _release.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
        if (errno == 0) return 0;
        Marshal.SetLastPInvokeError(errno);
        return -1;
    };

    private static void WaitFor(Func<bool> condition)
    {
        for (var i = 0; i < 3000 && !condition(); i++) Thread.Sleep(10);
        condition().Should().BeTrue();
    }

    /// <summary>A Sync on a thread of its own, as a delivery thread calls it.</summary>
    private sealed class Syncing
    {
        private readonly Thread _thread;
        public int Rc = int.MinValue, Errno;

        public Syncing(SharedFileSync sync, (int Fd, long Opening) file)
        {
            _thread = new Thread(() =>
            {
                Rc = sync.Sync(file.Fd, file.Opening);
                Errno = Libc.Errno;
            });
            _thread.Start();
        }

        public bool Ended(int seconds = 30) => _thread.Join(TimeSpan.FromSeconds(seconds));
        public bool IsRunning => _thread.IsAlive;
    }

    [Fact]
    public void A_lone_file_is_fsynced_itself()
    {
        var sync = new SharedFileSync(Watched("fsync"), Watched("syncfs"));
        var file = Written(sync, _dir, "a");
        sync.Sync(file.Fd, file.Opening).Should().Be(0);
        _calls.Should().Equal($"fsync {file.Fd}");
        sync.Counts.Should().Be((1L, 1L));
    }

    [Fact]
    public void Files_asking_while_a_sync_runs_share_one_syncfs_through_the_file_opened_first()
    {
        var sync = new SharedFileSync(Watched("fsync", hold: _ => true), Watched("syncfs"));
        var first = Written(sync, _dir, "first");
        var running = new Syncing(sync, first);
        WaitFor(() => _calls.Count == 1);

        var b = Written(sync, _dir, "b");
        var c = Written(sync, _dir, "c");
        var d = Written(sync, _dir, "d");
        var gathered = new List<Syncing>();
        foreach (var file in new[] { d, c, b }) // asking in another order than opening
        {
            gathered.Add(new Syncing(sync, file));
            WaitFor(() => sync.Gathering == gathered.Count);
        }
        _calls.Should().HaveCount(1, "nothing more is synced while the first sync runs");

        _release.Set();
        running.Ended().Should().BeTrue();
        gathered.Should().OnlyContain(t => t.Ended(30));
        running.Rc.Should().Be(0);
        gathered.Should().OnlyContain(t => t.Rc == 0);
        _calls.Should().Equal($"fsync {first.Fd}", $"syncfs {b.Fd}");
        sync.Counts.Should().Be((2L, 4L));
        sync.Gathering.Should().Be(0);
    }

    [Fact]
    public void A_failed_shared_sync_fails_every_member_and_the_next_sync_starts_afresh()
    {
        var failSyncfs = true;
        var sync = new SharedFileSync(Watched("fsync", hold: _ => !_release.IsSet),
            fd => failSyncfs ? Watched("syncfs", errno: Errno.EIO)(fd) : Watched("syncfs")(fd));
        var first = Written(sync, _dir, "first");
        var running = new Syncing(sync, first);
        WaitFor(() => _calls.Count == 1);
        var members = new[] { Written(sync, _dir, "b"), Written(sync, _dir, "c") }.Select(f => new Syncing(sync, f)).ToList();
        WaitFor(() => sync.Gathering == 2);

        _release.Set();
        running.Ended().Should().BeTrue();
        members.Should().OnlyContain(t => t.Ended(30));
        running.Rc.Should().Be(0);
        members.Should().OnlyContain(t => t.Rc == -1 && t.Errno == Errno.EIO);

        failSyncfs = false;
        var later = Written(sync, _dir, "later");
        sync.Sync(later.Fd, later.Opening).Should().Be(0);
        _calls.Last().Should().Be($"fsync {later.Fd}");
    }

    [Fact]
    public void A_sync_on_another_filesystem_does_not_wait()
    {
        Directory.CreateDirectory(_shm);
        Libc.StatPath(_shm, out var shm).Should().Be(0);
        Libc.StatPath(_dir, out var tmp).Should().Be(0);
        shm.Dev.Should().NotBe(tmp.Dev, "/dev/shm and the temporary directory are two filesystems here");

        var slow = default(int);
        var sync = new SharedFileSync(Watched("fsync", hold: fd => fd == slow), Watched("syncfs"));
        var held = Written(sync, _dir, "held");
        slow = held.Fd;
        var running = new Syncing(sync, held);
        WaitFor(() => _calls.Count == 1);

        var other = Written(sync, _shm, "other");
        var otherSync = new Syncing(sync, other);
        otherSync.Ended().Should().BeTrue("the other filesystem's file is synced at once");
        otherSync.Rc.Should().Be(0);
        running.IsRunning.Should().BeTrue();
        _release.Set();
        running.Ended().Should().BeTrue();
        _calls.Should().Equal($"fsync {held.Fd}", $"fsync {other.Fd}");
    }

    [Fact]
    public void Real_syncs_from_many_threads_make_every_file_durable()
    {
        var sync = new SharedFileSync();
        var files = Enumerable.Range(0, 16).Select(i => Written(sync, _dir, $"m{i}")).ToList();
        var threads = files.Select(f => new Syncing(sync, f)).ToList();
        threads.Should().OnlyContain(t => t.Ended(60));
        threads.Should().OnlyContain(t => t.Rc == 0);
        var (syncs, synced) = sync.Counts;
        synced.Should().Be(16);
        syncs.Should().BeInRange(1, 16);
    }
}
