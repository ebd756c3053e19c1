using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// TCP client sockets straight from libc. System.Net.Sockets.Socket's constructor
/// starts the runtime's socket engine (an epoll thread, and with async calls a
/// thread pool and a timer thread): several milliseconds for a program that is
/// started once per delivery and needs one blocking connection.
/// </summary>
public static unsafe partial class Libc
{
    public const int AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1, SO_ERROR = 4, IPPROTO_TCP = 6, TCP_NODELAY = 1;

    [LibraryImport(L, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(L, EntryPoint = "connect", SetLastError = true)]
    private static partial int ConnectRaw(int fd, byte* addr, int length);

    [LibraryImport(L, EntryPoint = "bind", SetLastError = true)]
    private static partial int BindRaw(int fd, byte* addr, int length);

    [LibraryImport(L, EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetsockoptRaw(int fd, int level, int name, int* value, int* length);

    [LibraryImport(L, EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetsockoptRaw(int fd, int level, int name, int* value, int length);

    /// <summary>
    /// TCP_NODELAY: each write leaves at once, even while earlier data is not
    /// yet acknowledged. For a writer that writes whole units (a command group,
    /// a block of the message) and then waits for the peer.
    /// </summary>
    public static int SetNoDelay(int fd)
    {
        var one = 1;
        return SetsockoptRaw(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int));
    }

    public static int Connect(int fd, IPAddress ip, int port)
    {
        Span<byte> sa = stackalloc byte[SockaddrMax];
        var length = Sockaddr(ip, port, sa);
        fixed (byte* p = sa) return ConnectRaw(fd, p, length);
    }

    public static int Bind(int fd, IPAddress ip)
    {
        Span<byte> sa = stackalloc byte[SockaddrMax];
        var length = Sockaddr(ip, 0, sa);
        fixed (byte* p = sa) return BindRaw(fd, p, length);
    }

    /// <summary>The pending error of a socket (SO_ERROR), or -1 when it cannot be read.</summary>
    public static int SocketError(int fd)
    {
        int value = 0, length = sizeof(int);
        return GetsockoptRaw(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : -1;
    }

    public static int SetBlocking(int fd, bool blocking)
    {
        var flags = Fcntl(fd, F_GETFL, 0);
        if (flags < 0) return -1;
        return Fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
    }

    [LibraryImport(L, EntryPoint = "if_indextoname")]
    private static partial byte* IfIndexToName(uint index, byte* name);

    /// <summary>The name of network interface <paramref name="index"/> (if_indextoname), or null when there is none.</summary>
    public static byte[]? InterfaceName(uint index)
    {
        const int IfNameSize = 16; // IF_NAMESIZE, the NUL included
        var name = stackalloc byte[IfNameSize];
        if (IfIndexToName(index, name) == null) return null;
        var span = new ReadOnlySpan<byte>(name, IfNameSize);
        var end = span.IndexOf((byte)0);
        return (end < 0 ? span : span[..end]).ToArray();
    }

    [LibraryImport(L, EntryPoint = "getsockname", SetLastError = true)]
    private static partial int GetsocknameRaw(int fd, byte* addr, int* length);

    /// <summary>The local address of a connected socket (getsockname), or null when it cannot be had.</summary>
    public static IPAddress? LocalAddress(int fd)
    {
        Span<byte> sa = stackalloc byte[SockaddrMax];
        var length = SockaddrMax;
        fixed (byte* p = sa) if (GetsocknameRaw(fd, p, &length) != 0) return null;
        var family = BitConverter.ToUInt16(sa);
        if (family == AF_INET && length >= 16) return new IPAddress(sa.Slice(4, 4));
        if (family == AF_INET6 && length >= 24) return new IPAddress(sa.Slice(8, 16));
        return null;
    }

    public static int FamilyOf(IPAddress ip) => ip.AddressFamily == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET;

    private const int SockaddrMax = 28;

    /// <summary>struct sockaddr_in / sockaddr_in6 as Linux lays them out (port in network order); returns its length.</summary>
    private static int Sockaddr(IPAddress ip, int port, Span<byte> sa)
    {
        sa.Clear();
        var v6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
        BitConverter.TryWriteBytes(sa, (ushort)(v6 ? AF_INET6 : AF_INET)); // sa_family: host order
        sa[2] = (byte)(port >> 8);
        sa[3] = (byte)port;
        if (!v6)
        {
            ip.TryWriteBytes(sa.Slice(4, 4), out _);
            return 16;
        }
        ip.TryWriteBytes(sa.Slice(8, 16), out _);
        BitConverter.TryWriteBytes(sa.Slice(24, 4), (uint)ip.ScopeId);
        return SockaddrMax;
    }
}
