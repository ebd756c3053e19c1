using System.Runtime.InteropServices;
using static Jsmail.Common.Os.Errno;

namespace Jsmail.Common.Os;

/// <summary>Calls on file descriptors: reading and writing retried on EINTR, pipes, duplication, flags, locks, poll.</summary>
public static unsafe partial class Libc
{
    public const int F_DUPFD_CLOEXEC = 1030, F_GETFL = 3, F_SETFL = 4, F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    public const int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }
    public const short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;

    [LibraryImport(L, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(L, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadRaw(int fd, byte* buf, nint count);

    [LibraryImport(L, EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteRaw(int fd, byte* buf, nint count);

    [LibraryImport(L, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(L, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport(L, EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(L, EntryPoint = "fstat", SetLastError = true)]
    public static partial int Fstat(int fd, out Stat st);

    [LibraryImport(L, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(L, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport(L, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int from, int to);

    [LibraryImport(L, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2Raw(int* fds, int flags);

    public const uint MFD_CLOEXEC = 1;

    [LibraryImport(L, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(L, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollRaw(PollFd* fds, nuint nfds, int timeoutMs);

    /// <summary>read(2), retried on EINTR. Returns bytes read, 0 at EOF, -1 on error (see Errno).</summary>
    public static int Read(int fd, Span<byte> buf)
    {
        fixed (byte* p = buf)
            while (true)
            {
                var n = ReadRaw(fd, p, buf.Length);
                if (n >= 0 || Errno != EINTR) return (int)n;
            }
    }

    [LibraryImport(L, EntryPoint = "pread", SetLastError = true)]
    private static partial nint PreadRaw(int fd, byte* buf, nint count, long offset);

    /// <summary>pread(2), retried on EINTR: reads at an offset without moving the descriptor's own (shared) offset.</summary>
    public static int Pread(int fd, Span<byte> buf, long offset)
    {
        fixed (byte* p = buf)
            while (true)
            {
                var n = PreadRaw(fd, p, buf.Length, offset);
                if (n >= 0 || Errno != EINTR) return (int)n;
            }
    }

    /// <summary>Writes all of buf, retrying short writes and EINTR. False on error (see Errno).</summary>
    public static bool WriteAll(int fd, ReadOnlySpan<byte> buf)
    {
        fixed (byte* p = buf)
        {
            var done = 0;
            while (done < buf.Length)
            {
                var n = WriteRaw(fd, p + done, buf.Length - done);
                if (n < 0) { if (Errno == EINTR) continue; return false; }
                done += (int)n;
            }
        }
        return true;
    }

    /// <summary>One write(2) attempt (for non-blocking fds). -1 on error.</summary>
    public static int WriteOnce(int fd, ReadOnlySpan<byte> buf)
    {
        fixed (byte* p = buf)
            while (true)
            {
                var n = WriteRaw(fd, p, buf.Length);
                if (n >= 0 || Errno != EINTR) return (int)n;
            }
    }

    /// <summary>A close-on-exec pipe whose ends sit at fd 10 or above, so that
    /// moving them onto low numbers in a child never collides with them.</summary>
    public static bool Pipe(out int readEnd, out int writeEnd)
    {
        int* fds = stackalloc int[2];
        readEnd = writeEnd = -1;
        if (Pipe2Raw(fds, O_CLOEXEC) != 0) return false;
        readEnd = MoveHigh(fds[0]);
        var errno = readEnd < 0 ? Errno : 0;
        writeEnd = MoveHigh(fds[1]);
        if (readEnd >= 0 && writeEnd >= 0) return true;
        if (errno == 0) errno = Errno;
        // out of descriptors at 10 and above: no end is left open behind the failure
        if (readEnd >= 0) Close(readEnd);
        if (writeEnd >= 0) Close(writeEnd);
        KeepErrno(errno);
        readEnd = writeEnd = -1;
        return false;
    }

    /// <summary>
    /// Moves a close-on-exec fd to 10 or above (closing the old number). -1
    /// when no number from 10 up is free (EMFILE): the fd is closed then too,
    /// so a caller must check before it hands the result on. <see cref="Errno"/>
    /// is the failure's, not the close's.
    /// </summary>
    public static int MoveHigh(int fd)
    {
        if (fd >= 10) return fd;
        var moved = Fcntl(fd, F_DUPFD_CLOEXEC, 10);
        var errno = Errno;
        Close(fd);
        KeepErrno(errno);
        return moved;
    }

    /// <summary>
    /// Puts an errno back where <see cref="Errno"/> reads it: a call that
    /// succeeds after a failure (a close on the way out) leaves 0 there, and a
    /// caller deciding temporary or permanent from 0 once bounced messages.
    /// </summary>
    private static void KeepErrno(int errno) => Marshal.SetLastPInvokeError(errno);

    public static int Poll(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
            while (true)
            {
                var r = PollRaw(p, (nuint)fds.Length, timeoutMs);
                if (r >= 0 || Errno != EINTR) return r;
            }
    }

    public static bool IsOpen(int fd) => Fcntl(fd, F_GETFD, 0) >= 0;
}
