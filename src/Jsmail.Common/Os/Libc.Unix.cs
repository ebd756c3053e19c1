using System.Runtime.InteropServices;
using System.Text;

namespace Jsmail.Common.Os;

/// <summary>
/// Unix-domain sockets with what .NET's Socket does not offer: a descriptor
/// passed along with the bytes (SCM_RIGHTS) and the peer's credentials
/// (SO_PEERCRED); and syncfs, which makes a whole filesystem durable in one call.
/// Layouts are x86_64's (arm64 shares them): msghdr 56 bytes, cmsghdr 16.
/// </summary>
public static unsafe partial class Libc
{
    public const int AF_UNIX = 1, SHUT_RD = 0, SHUT_RDWR = 2;
    private const int SCM_RIGHTS = 1, SO_PEERCRED = 17, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    private const int SunPathMax = 108, CmsgHeader = 16, CmsgSpaceOneFd = 24;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec { public byte* Base; public nuint Length; }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public byte* Name;
        public int NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct ucred: who is at the other end of a Unix socket, as of its connect.</summary>
    public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid);

    [LibraryImport(L, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(L, EntryPoint = "accept4", SetLastError = true)]
    private static partial int Accept4Raw(int fd, byte* addr, int* length, int flags);

    [LibraryImport(L, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(L, EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendmsgRaw(int fd, MsgHdr* msg, int flags);

    [LibraryImport(L, EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvmsgRaw(int fd, MsgHdr* msg, int flags);

    [LibraryImport(L, EntryPoint = "syncfs", SetLastError = true)]
    public static partial int Syncfs(int fd);

    /// <summary>accept4 with close-on-exec; the peer's address is not asked for.</summary>
    public static int Accept(int listener) => Accept4Raw(listener, null, null, SOCK_CLOEXEC);

    /// <summary>bind(2) to a filesystem path (at most 107 bytes).</summary>
    public static int BindUnix(int fd, string path) => UnixAddressCall(fd, path, bind: true);

    /// <summary>connect(2) to a filesystem path (at most 107 bytes).</summary>
    public static int ConnectUnix(int fd, string path) => UnixAddressCall(fd, path, bind: false);

    private static int UnixAddressCall(int fd, string path, bool bind)
    {
        Span<byte> sa = stackalloc byte[2 + SunPathMax];
        sa.Clear();
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= SunPathMax) return -1;
        BitConverter.TryWriteBytes(sa, (ushort)AF_UNIX);
        bytes.CopyTo(sa[2..]);
        fixed (byte* p = sa) return bind ? BindRaw(fd, p, 2 + bytes.Length + 1) : ConnectRaw(fd, p, 2 + bytes.Length + 1);
    }

    /// <summary>The credentials of a connected Unix socket's peer, or null.</summary>
    public static PeerCredentials? PeerCredentialsOf(int fd)
    {
        Span<int> ucred = stackalloc int[3];
        var length = 12;
        fixed (int* p = ucred)
            if (GetsockoptRaw(fd, SOL_SOCKET, SO_PEERCRED, p, &length) != 0 || length != 12) return null;
        return new PeerCredentials(ucred[0], (uint)ucred[1], (uint)ucred[2]);
    }

    /// <summary>
    /// sendmsg(2) of <paramref name="data"/>, with <paramref name="passFd"/>
    /// attached (SCM_RIGHTS) when it is not -1; never raises SIGPIPE. Returns
    /// the bytes sent (a stream socket may take fewer) or -1.
    /// </summary>
    public static nint SendWithFd(int socket, ReadOnlySpan<byte> data, int passFd)
    {
        byte* control = stackalloc byte[CmsgSpaceOneFd];
        new Span<byte>(control, CmsgSpaceOneFd).Clear();
        fixed (byte* d = data)
        {
            var iov = new IoVec { Base = d, Length = (nuint)data.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1 };
            if (passFd >= 0)
            {
                *(nuint*)control = CmsgHeader + sizeof(int); // cmsg_len = CMSG_LEN(sizeof(int))
                *(int*)(control + 8) = SOL_SOCKET;
                *(int*)(control + 12) = SCM_RIGHTS;
                *(int*)(control + CmsgHeader) = passFd;
                msg.Control = control;
                msg.ControlLength = CmsgSpaceOneFd;
            }
            nint n;
            do n = SendmsgRaw(socket, &msg, MSG_NOSIGNAL);
            while (n < 0 && Errno == Os.Errno.EINTR);
            return n;
        }
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>; descriptors that came with
    /// the bytes (close-on-exec) are added to <paramref name="received"/> in
    /// the order they were sent. Returns the bytes read, 0 at end of stream, -1 on error.
    /// </summary>
    public static nint ReceiveWithFds(int socket, Span<byte> buffer, List<int> received)
    {
        const int ControlSpace = 256; // room for several descriptors, should a peer send more than one
        byte* control = stackalloc byte[ControlSpace];
        fixed (byte* d = buffer)
        {
            var iov = new IoVec { Base = d, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSpace };
            nint n;
            do n = RecvmsgRaw(socket, &msg, MSG_CMSG_CLOEXEC);
            while (n < 0 && Errno == Os.Errno.EINTR);
            if (n < 0) return n;
            for (nuint offset = 0; offset + CmsgHeader <= msg.ControlLength;)
            {
                var length = *(nuint*)(control + offset);
                if (length < CmsgHeader) break;
                if (*(int*)(control + offset + 8) == SOL_SOCKET && *(int*)(control + offset + 12) == SCM_RIGHTS)
                    for (nuint i = CmsgHeader; i + sizeof(int) <= length; i += sizeof(int))
                        received.Add(*(int*)(control + offset + i));
                offset += (length + 7) & ~(nuint)7;
            }
            return n;
        }
    }
}
