using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Send;

/// <summary>
/// jsmail-send's command socket, queue/command/send (docs/jsmail.md): the
/// <c>jsmail</c> command's requests, one line per connection, answered with
/// one line. Only root and jsmail-send's own account (qmails) may ask: the
/// directory is qmails's, mode 0700, and each peer's uid is checked again
/// (SO_PEERCRED). Non-blocking throughout: a slow or silent client never
/// stops the loop (at most <see cref="MaxClients"/> at once, each dropped
/// after <see cref="ClientSeconds"/>).
/// </summary>
public sealed class CommandChannel : IDisposable
{
    public const int MaxClients = 4;
    public const int PollSlots = 1 + MaxClients;
    private const long ClientSeconds = 10;

    private sealed class Client(int fd, long since, uint uid)
    {
        public readonly int Fd = fd;
        public readonly long Since = since;
        public readonly uint Uid = uid;
        public readonly List<byte> Buffer = new();
    }

    private readonly int _listener;
    private readonly uint _owner;
    private readonly List<Client> _clients = new();

    private CommandChannel(int listener, uint owner)
    {
        _listener = listener;
        _owner = owner;
    }

    /// <summary>Listens on queue/command/send (relative to queue/); null, logged, when the directory is missing or the socket cannot be made.</summary>
    public static CommandChannel? Open()
    {
        if (!Directory.Exists(Path.GetDirectoryName(QueueLayout.CommandSocket)))
            return null; // a queue installed before jsmail's command: the jsmail command works only while jsmail-send is stopped
        Libc.Unlink(QueueLayout.CommandSocket); // ours: lock/sendmutex says no other jsmail-send runs
        var fd = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0 || Libc.BindUnix(fd, QueueLayout.CommandSocket) != 0 || Libc.Listen(fd, 16) != 0 ||
            Libc.Fcntl(fd, Libc.F_SETFL, Libc.O_NONBLOCK) < 0)
        {
            ActivityLog.Line("warning: unable to listen on command/send; the jsmail command cannot reach qmail-send");
            if (fd >= 0) Libc.Close(fd);
            return null;
        }
        return new CommandChannel(fd, Libc.Geteuid());
    }

    /// <summary>The descriptors to poll: the listener (while there is room), then each client.</summary>
    public void Fill(Span<Libc.PollFd> fds)
    {
        fds[0] = new Libc.PollFd { Fd = _clients.Count < MaxClients ? _listener : -1, Events = Libc.POLLIN };
        for (var i = 0; i < MaxClients; i++)
            fds[1 + i] = new Libc.PollFd { Fd = i < _clients.Count ? _clients[i].Fd : -1, Events = Libc.POLLIN };
    }

    /// <summary>
    /// Accepts and reads what poll reported; each complete request from an
    /// allowed peer is passed to <paramref name="handle"/>, whose reply line
    /// is written back before the connection is closed.
    /// </summary>
    public void Step(ReadOnlySpan<Libc.PollFd> fds, long now, Func<QueueCommand, uint, string> handle)
    {
        var ready = new List<Client>();
        for (var i = 0; i < MaxClients && i < _clients.Count; i++)
            if ((fds[1 + i].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0) ready.Add(_clients[i]);
        foreach (var c in ready) Read(c, handle);
        foreach (var c in _clients.Where(c => now > c.Since + ClientSeconds).ToList()) Drop(c);
        if ((fds[0].Revents & Libc.POLLIN) != 0) Accept(now);
    }

    private void Accept(long now)
    {
        var fd = Libc.Accept(_listener);
        if (fd < 0) return;
        var peer = Libc.PeerCredentialsOf(fd);
        if (peer is not { } p || (p.Uid != 0 && p.Uid != _owner))
        {
            Libc.WriteAll(fd, "error permission denied: only root and the queue's owner may change the queue\n"u8);
            Libc.Close(fd);
            return;
        }
        Libc.Fcntl(fd, Libc.F_SETFL, Libc.O_NONBLOCK);
        _clients.Add(new Client(fd, now, p.Uid));
    }

    private void Read(Client c, Func<QueueCommand, uint, string> handle)
    {
        Span<byte> buf = stackalloc byte[512];
        var n = Libc.Read(c.Fd, buf);
        if (n < 0 && Libc.Errno is Errno.EAGAIN or Errno.EINTR) return;
        if (n <= 0) { Drop(c); return; }
        c.Buffer.AddRange(buf[..n]);
        var nl = c.Buffer.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (c.Buffer.Count > QueueCommand.MaxRequest) Reply(c, "error request too long");
            return;
        }
        var request = QueueCommand.Parse(c.Buffer.GetRange(0, nl).ToArray());
        Reply(c, request == null ? "error unknown request" : handle(request, c.Uid));
    }

    private void Reply(Client c, string text)
    {
        // a one-line reply fits a fresh socket's buffer: the write does not block for long
        Libc.Fcntl(c.Fd, Libc.F_SETFL, 0);
        Libc.WriteAll(c.Fd, System.Text.Encoding.UTF8.GetBytes(text + "\n"));
        Drop(c);
    }

    private void Drop(Client c)
    {
        Libc.Close(c.Fd);
        _clients.Remove(c);
    }

    public void Dispose()
    {
        foreach (var c in _clients.ToList()) Drop(c);
        Libc.Close(_listener);
        Libc.Unlink(QueueLayout.CommandSocket);
    }
}
