using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// The few libc calls jsmail needs where .NET hides what qmail's contract
/// depends on: exact open flags and modes, inode numbers, hard links, fsync
/// order, raw file descriptors, real and effective ids, exec. One partial per
/// concern: Files (paths), Descriptors, Process, Signals, Credentials, Users,
/// Environment, Net. Linux only; struct layouts are x86_64's (arm64 shares them).
/// libc is bound directly at link time (DirectPInvoke), so no call costs a lookup.
/// </summary>
public static unsafe partial class Libc
{
    private const string L = "libc";

    /// <summary>errno of the last libc call made with SetLastError; the numbers are in <see cref="Os.Errno"/>.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>A NUL-terminated copy of a byte string, for calls that take a C string.</summary>
    private static byte[] CString(ReadOnlySpan<byte> s)
    {
        var c = new byte[s.Length + 1];
        s.CopyTo(c);
        return c;
    }
}
