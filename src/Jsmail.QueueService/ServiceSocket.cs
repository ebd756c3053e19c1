using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.QueueService;

/// <summary>
/// The listening socket, home/queued/socket. Who may reach it is decided by
/// the directory (install.sh makes queued/ the queue owner's, group nofiles,
/// mode 0750: qmaild's group can enter, others cannot) and by the peer check;
/// the socket itself is mode 0666 because connecting needs write permission.
/// A socket file left by a service that died is replaced; one that still
/// answers belongs to a running service, and this one does not start.
/// </summary>
public static class ServiceSocket
{
    /// <summary>The listening descriptor, or -1 with the reason in <paramref name="problem"/>.</summary>
    public static int Listen(string home, out string problem)
    {
        var path = QueueServiceClient.SocketPath(home);
        problem = "";
        if (!Directory.Exists(Path.GetDirectoryName(path)))
        {
            problem = $"{Path.GetDirectoryName(path)} is missing: run install.sh";
            return -1;
        }
        if (File.Exists(path) || Libc.StatPath(path, out _) == 0)
        {
            if (Answers(path))
            {
                problem = $"another jsmail-queued is listening on {path}";
                return -1;
            }
            Libc.Unlink(path);
        }
        var fd = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0 || Libc.BindUnix(fd, path) != 0 || Libc.Listen(fd, 128) != 0)
        {
            problem = $"cannot listen on {path}: {ErrorText.Describe(Libc.Errno)}";
            if (fd >= 0) Libc.Close(fd);
            return -1;
        }
        File.SetUnixFileMode(path, (UnixFileMode)0x1B6); // 0666
        return fd;
    }

    private static bool Answers(string path)
    {
        using var probe = new OwnedFd(Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0));
        return probe.IsOpen && Libc.ConnectUnix(probe.Fd, path) == 0;
    }
}
