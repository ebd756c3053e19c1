using System.Runtime.InteropServices;
using static Jsmail.Common.Os.Errno;

namespace Jsmail.Common.Os;

/// <summary>
/// qmail's own errno descriptions (error_str) and its temporary/permanent split
/// (error_temp). Diagnostics that remote peers, logs and bounces show embed
/// these texts, so they must match qmail's and not the C library's strerror.
/// </summary>
public static class ErrorText
{
    /// <summary>qmail's text for <paramref name="errno"/>; "unknown error" for anything it has no text for.</summary>
    public static string Describe(int errno) => errno switch
    {
        0 => "no error",
        EINTR => "interrupted system call",
        ENOMEM => "out of memory",
        ENOENT => "file does not exist",
        ETXTBSY => "text busy",
        EIO => "input/output error",
        EEXIST => "file already exists",
        ETIMEDOUT => "timed out",
        EINPROGRESS => "operation in progress",
        // qmail tests EAGAIN before EWOULDBLOCK; on Linux they are one number, so
        // its "input/output would block" text is never produced.
        EAGAIN => "temporary failure",
        EPIPE => "broken pipe",
        EPERM => "permission denied",
        EACCES => "access denied",
        ESRCH => "no such process",
        ENXIO => "device not configured",
        E2BIG => "argument list too long",
        ENOEXEC => "exec format error",
        EBADF => "file descriptor not open",
        ECHILD => "no child processes",
        EDEADLK => "operation would cause deadlock",
        EFAULT => "bad address",
        ENOTBLK => "not a block device",
        EBUSY => "device busy",
        EXDEV => "cross-device link",
        ENODEV => "device does not support operation",
        ENOTDIR => "not a directory",
        EISDIR => "is a directory",
        EINVAL => "invalid argument",
        ENFILE => "system cannot open more files",
        EMFILE => "process cannot open more files",
        ENOTTY => "not a tty",
        EFBIG => "file too big",
        ENOSPC => "out of disk space",
        ESPIPE => "unseekable descriptor",
        EROFS => "read-only file system",
        EMLINK => "too many links",
        EDOM => "input out of range",
        ERANGE => "output out of range",
        EALREADY => "operation already in progress",
        ENOTSOCK => "not a socket",
        EDESTADDRREQ => "destination address required",
        EMSGSIZE => "message too long",
        EPROTOTYPE => "incorrect protocol type",
        ENOPROTOOPT => "protocol not available",
        EPROTONOSUPPORT => "protocol not supported",
        ESOCKTNOSUPPORT => "socket type not supported",
        EOPNOTSUPP => "operation not supported",
        EPFNOSUPPORT => "protocol family not supported",
        EAFNOSUPPORT => "address family not supported",
        EADDRINUSE => "address already used",
        EADDRNOTAVAIL => "address not available",
        ENETDOWN => "network down",
        ENETUNREACH => "network unreachable",
        ENETRESET => "network reset",
        ECONNABORTED => "connection aborted",
        ECONNRESET => "connection reset",
        ENOBUFS => "out of buffer space",
        EISCONN => "already connected",
        ENOTCONN => "not connected",
        ESHUTDOWN => "socket shut down",
        ETOOMANYREFS => "too many references",
        ECONNREFUSED => "connection refused",
        ELOOP => "symbolic link loop",
        ENAMETOOLONG => "file name too long",
        EHOSTDOWN => "host down",
        EHOSTUNREACH => "host unreachable",
        ENOTEMPTY => "directory not empty",
        EUSERS => "too many users",
        EDQUOT => "disk quota exceeded",
        ESTALE => "stale NFS file handle",
        EREMOTE => "too many levels of remote in path",
        ENOLCK => "no locks available",
        ENOSYS => "system call not available",
        ENOSTR => "not a stream device",
        ETIME => "timer expired",
        ENOSR => "out of stream resources",
        ENOMSG => "no message of desired type",
        EBADMSG => "bad message type",
        EIDRM => "identifier removed",
        ENONET => "machine not on network",
        ENOLINK => "link severed",
        EADV => "advertise error",
        ESRMNT => "srmount error",
        ECOMM => "communication error",
        EPROTO => "protocol error",
        EMULTIHOP => "multihop attempted",
        EREMCHG => "remote address changed",
        // qmail also names BSD-only errors (EPROCLIM, EFTYPE, the RPC ones, ...);
        // Linux has no such numbers, so they cannot occur here.
        _ => "unknown error",
    };

    /// <summary>
    /// Whether qmail counts <paramref name="errno"/> as a temporary condition
    /// (worth retrying) rather than a permanent one. EPROCLIM, also on qmail's
    /// list, does not exist on Linux.
    /// </summary>
    public static bool IsTemporary(int errno) => errno is
        EINTR or ENOMEM or ETXTBSY or EIO or ETIMEDOUT or EAGAIN or EDEADLK or EBUSY or ENFILE
        or EMFILE or EFBIG or ENOSPC or ENETDOWN or ENETUNREACH or ENETRESET or ECONNABORTED
        or ECONNRESET or ENOBUFS or ETOOMANYREFS or ECONNREFUSED or EHOSTDOWN or EHOSTUNREACH
        or EUSERS or EDQUOT or ESTALE or ENOLCK;

    /// <summary>qmail's text for the errno left by the last P/Invoke declared with SetLastError.</summary>
    public static string DescribeLastPInvokeError() => Describe(Marshal.GetLastPInvokeError());

    /// <summary>
    /// The errno behind an exception from .NET's file APIs, or null when it does
    /// not carry one. On Linux .NET puts the raw errno in a plain IOException's
    /// HResult, and in the inner IOException of an UnauthorizedAccessException
    /// (EACCES, EPERM, EBADF); a few errnos become dedicated exception types.
    /// Some detail is lost on the way: ENOTDIR arrives as DirectoryNotFoundException
    /// and comes out as ENOENT, and opening a directory is reported as EACCES.
    /// Code that must tell such cases apart makes its own system calls.
    /// </summary>
    public static int? ErrnoOf(Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => ENOENT,
        PathTooLongException => ENAMETOOLONG,
        UnauthorizedAccessException { InnerException: { } inner } => ErrnoOf(inner),
        UnauthorizedAccessException => EACCES,
        IOException { HResult: > 0 and < 4096 } io => io.HResult,
        _ => null,
    };

    /// <summary>qmail's text for the errno behind <paramref name="exception"/> ("unknown error" if none).</summary>
    public static string Describe(Exception exception) => ErrnoOf(exception) is { } errno ? Describe(errno) : "unknown error";
}
