using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// Group commit for files written by concurrent threads (jsmail-lspawn's
/// in-process deliveries). A thread that asks while no sync of its
/// filesystem runs syncs its own file (fsync, as alone it would). Threads
/// that ask while one runs gather into the next batch, which then costs one
/// syncfs for all of them: each of their files was written before that sync
/// began, so the sync covers it.
///
/// Errors: since Linux 5.8 syncfs reports a writeback error anywhere on the
/// filesystem that happened after the descriptor passed to it was opened.
/// The batch's sync therefore goes through the file opened first
/// (<see cref="Opening"/>), whose open came before every write of the batch,
/// so a failed write of any member fails the whole batch. Failing more than
/// needed is safe: those deliveries are deferred and made again.
/// </summary>
public sealed class SharedFileSync : FileSync
{
    private sealed class Batch
    {
        public readonly List<(int Fd, long Opening)> Files = [];
        public bool Claimed, Done;
        public int Errno;
    }

    private sealed class Filesystem
    {
        public Batch? Syncing, Gathering;
    }

    private readonly object _lock = new();
    private readonly Dictionary<ulong, Filesystem> _filesystems = [];
    private readonly Func<int, int> _fsync, _syncfs;
    private long _openings, _syncs, _files;

    /// <param name="fsync">fsync(2) unless a test watches the calls</param>
    /// <param name="syncfs">syncfs(2) unless a test watches the calls</param>
    public SharedFileSync(Func<int, int>? fsync = null, Func<int, int>? syncfs = null)
    {
        _fsync = fsync ?? Libc.Fsync;
        _syncfs = syncfs ?? Libc.Syncfs;
    }

    /// <summary>Sync calls made, and files made durable by them.</summary>
    public (long Syncs, long Files) Counts
    {
        get { lock (_lock) return (_syncs, _files); }
    }

    /// <summary>Threads waiting for the next sync of their filesystem.</summary>
    public int Gathering
    {
        get { lock (_lock) return _filesystems.Values.Sum(f => f.Gathering?.Files.Count ?? 0); }
    }

    public override long Opening() => Interlocked.Increment(ref _openings);

    public override int Sync(int fd, long opening)
    {
        if (Libc.Fstat(fd, out var st) != 0) return -1;
        Filesystem fs;
        Batch batch;
        lock (_lock)
        {
            if (!_filesystems.TryGetValue(st.Dev, out fs!)) _filesystems[st.Dev] = fs = new Filesystem();
            batch = fs.Syncing == null ? fs.Syncing = new Batch() : fs.Gathering ??= new Batch();
            batch.Files.Add((fd, opening));
            // Wait for the batch to be synced by another member, or to be the one syncing it.
            while (!batch.Done && (fs.Syncing != batch || batch.Claimed)) Monitor.Wait(_lock);
            if (batch.Done) return Result(batch);
            batch.Claimed = true;
        }

        // Members are frozen: since this batch became the one syncing, newcomers gather in the next.
        var first = batch.Files.MinBy(f => f.Opening).Fd;
        var rc = batch.Files.Count == 1 ? _fsync(first) : _syncfs(first);
        var errno = rc == 0 ? 0 : Libc.Errno;
        if (rc != 0 && errno == 0) errno = Errno.EIO;
        lock (_lock)
        {
            _syncs++;
            _files += batch.Files.Count;
            batch.Errno = errno;
            batch.Done = true;
            fs.Syncing = fs.Gathering;
            fs.Gathering = null;
            Monitor.PulseAll(_lock);
        }
        return Result(batch);
    }

    private static int Result(Batch batch)
    {
        if (batch.Errno == 0) return 0;
        Marshal.SetLastPInvokeError(batch.Errno);
        return -1;
    }
}
