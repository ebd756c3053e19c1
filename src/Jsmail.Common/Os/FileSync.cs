namespace Jsmail.Common.Os;

/// <summary>
/// How a delivery makes a file it has written durable before it says the
/// delivery is done. This one is fsync, file by file, as qmail-local does;
/// <see cref="SharedFileSync"/> lets delivery threads that ask at the same
/// time share one sync of their filesystem. A caller takes
/// <see cref="Opening"/> just before it opens the file and hands it to
/// <see cref="Sync"/> after its last write.
/// </summary>
public class FileSync
{
    public static readonly FileSync EachFile = new();

    /// <summary>When the file is being opened, in the order of this sync's openings (0 where order is not needed).</summary>
    public virtual long Opening() => 0;

    /// <summary>0 once the file's data and inode are durable; else -1 with errno set.</summary>
    public virtual int Sync(int fd, long opening) => Libc.Fsync(fd);
}
