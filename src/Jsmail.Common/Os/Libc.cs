using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// The few libc calls jsmail needs where .NET's file API hides what qmail's
/// contract depends on: exact open flags and modes, inode numbers, hard links,
/// fsync order, umask, real and effective uids, raw file descriptors.
/// linux-x64 only (the stat layout below is x86_64's).
/// </summary>
public static unsafe partial class Libc
{
    private const string L = "libc";

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80,
        O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

    public const int EINTR = 4, ENOENT = 2, EEXIST = 17, EAGAIN = 11, EPIPE = 32, ECHILD = 10;

    public const int SIGKILL = 9, SIGTERM = 15;

    public const int F_DUPFD_CLOEXEC = 1030, F_GETFL = 3, F_SETFL = 4, F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;

    [StructLayout(LayoutKind.Explicit, Size = 144)]
    public struct Stat
    {
        [FieldOffset(0)] public ulong Dev;
        [FieldOffset(8)] public ulong Ino;
        [FieldOffset(16)] public ulong Nlink;
        [FieldOffset(24)] public uint Mode;
        [FieldOffset(28)] public uint Uid;
        [FieldOffset(32)] public uint Gid;
        [FieldOffset(48)] public long Size;
        [FieldOffset(72)] public long ATimeSec;
        [FieldOffset(88)] public long MTimeSec;

        public readonly bool IsFifo => (Mode & 0xF000) == 0x1000;
        public readonly bool IsDirectory => (Mode & 0xF000) == 0x4000;
        public readonly bool IsRegular => (Mode & 0xF000) == 0x8000;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }
    public const short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;

    [LibraryImport(L, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

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

    [LibraryImport(L, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string from, string to);

    [LibraryImport(L, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(L, EntryPoint = "fstat", SetLastError = true)]
    public static partial int Fstat(int fd, out Stat st);

    [LibraryImport(L, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatPath(string path, out Stat st);

    [LibraryImport(L, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chdir(string path);

    [LibraryImport(L, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    [LibraryImport(L, EntryPoint = "getuid")] public static partial uint Getuid();
    [LibraryImport(L, EntryPoint = "geteuid")] public static partial uint Geteuid();
    [LibraryImport(L, EntryPoint = "getgid")] public static partial uint Getgid();
    [LibraryImport(L, EntryPoint = "getegid")] public static partial uint Getegid();
    [LibraryImport(L, EntryPoint = "getpid")] public static partial int Getpid();

    [LibraryImport(L, EntryPoint = "setreuid", SetLastError = true)]
    public static partial int Setreuid(uint ruid, uint euid);

    [LibraryImport(L, EntryPoint = "setregid", SetLastError = true)]
    public static partial int Setregid(uint rgid, uint egid);

    [LibraryImport(L, EntryPoint = "alarm")]
    public static partial uint Alarm(uint seconds);

    /// <summary>Leaves at once: no finalizers, no flushing, as qmail's _exit.</summary>
    [LibraryImport(L, EntryPoint = "_exit")]
    public static partial void Exit(int status);

    [LibraryImport(L, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    [LibraryImport(L, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitpidRaw(int pid, int* status, int options);

    [LibraryImport(L, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2Raw(int* fds, int flags);

    [LibraryImport(L, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport(L, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollRaw(PollFd* fds, nuint nfds, int timeoutMs);

    [LibraryImport(L, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(L, EntryPoint = "sigprocmask", SetLastError = true)]
    private static partial int SigprocmaskRaw(int how, byte* set, byte* old);

    [LibraryImport(L, EntryPoint = "getpwuid")]
    private static partial nint GetpwuidRaw(uint uid);

    [LibraryImport(L, EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetpwnamRaw(string name);

    public static int Errno => Marshal.GetLastPInvokeError();

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

    /// <summary>waitpid(2) retried on EINTR; returns the raw status or -1.</summary>
    public static int Waitpid(int pid, out int status, int options = 0)
    {
        int s = 0;
        while (true)
        {
            var r = WaitpidRaw(pid, &s, options);
            if (r >= 0 || Errno != EINTR) { status = s; return r; }
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
        writeEnd = MoveHigh(fds[1]);
        return readEnd >= 0 && writeEnd >= 0;
    }

    /// <summary>Moves a close-on-exec fd to 10 or above (closing the old number).</summary>
    public static int MoveHigh(int fd)
    {
        if (fd >= 10) return fd;
        var moved = Fcntl(fd, F_DUPFD_CLOEXEC, 10);
        Close(fd);
        return moved;
    }

    public static int Poll(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
            while (true)
            {
                var r = PollRaw(p, (nuint)fds.Length, timeoutMs);
                if (r >= 0 || Errno != EINTR) return r;
            }
    }

    /// <summary>Unblocks every signal (a caller may have left some blocked).</summary>
    public static void UnblockAllSignals()
    {
        byte* empty = stackalloc byte[128];
        new Span<byte>(empty, 128).Clear();
        SigprocmaskRaw(2 /* SIG_SETMASK */, empty, null);
    }

    public readonly record struct Passwd(string Name, uint Uid, uint Gid, string Home);

    public static Passwd? GetPasswd(uint uid) => ReadPasswd(GetpwuidRaw(uid));
    public static Passwd? GetPasswd(string name) => ReadPasswd(GetpwnamRaw(name));

    private static Passwd? ReadPasswd(nint pw)
    {
        if (pw == 0) return null;
        // struct passwd on x86_64: name, passwd, uid, gid, gecos, dir, shell
        var name = Marshal.PtrToStringUTF8(*(nint*)pw) ?? "";
        var uid = *(uint*)(pw + 16);
        var gid = *(uint*)(pw + 20);
        var dir = Marshal.PtrToStringUTF8(*(nint*)(pw + 32)) ?? "";
        return new Passwd(name, uid, gid, dir);
    }

    public static bool IsOpen(int fd) => Fcntl(fd, F_GETFD, 0) >= 0;

    /// <summary>WIFEXITED / WEXITSTATUS / WTERMSIG of a wait status.</summary>
    public static bool Exited(int status) => (status & 0x7f) == 0;
    public static int ExitCode(int status) => (status >> 8) & 0xff;
    public static int TermSignal(int status) => status & 0x7f;
}

public static unsafe partial class Libc
{
    public const nint SIG_DFL = 0, SIG_IGN = 1;

    [LibraryImport("libc", EntryPoint = "signal")]
    public static partial nint Signal(int sig, nint handler);

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Execve(string path, byte** argv, byte** envp);
}
