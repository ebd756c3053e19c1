using System.Reflection;
using System.Text.RegularExpressions;
using Jsmail.Common.Os;

namespace Jsmail.Common.Tests.Os;

public partial class ErrorTextTests
{
    // Every text qmail's error_str gives that has a Linux errno.
    [Theory]
    [InlineData(0, "no error")]
    [InlineData(1, "permission denied")]
    [InlineData(2, "file does not exist")]
    [InlineData(3, "no such process")]
    [InlineData(4, "interrupted system call")]
    [InlineData(5, "input/output error")]
    [InlineData(6, "device not configured")]
    [InlineData(7, "argument list too long")]
    [InlineData(8, "exec format error")]
    [InlineData(9, "file descriptor not open")]
    [InlineData(10, "no child processes")]
    [InlineData(11, "temporary failure")]
    [InlineData(12, "out of memory")]
    [InlineData(13, "access denied")]
    [InlineData(14, "bad address")]
    [InlineData(15, "not a block device")]
    [InlineData(16, "device busy")]
    [InlineData(17, "file already exists")]
    [InlineData(18, "cross-device link")]
    [InlineData(19, "device does not support operation")]
    [InlineData(20, "not a directory")]
    [InlineData(21, "is a directory")]
    [InlineData(22, "invalid argument")]
    [InlineData(23, "system cannot open more files")]
    [InlineData(24, "process cannot open more files")]
    [InlineData(25, "not a tty")]
    [InlineData(26, "text busy")]
    [InlineData(27, "file too big")]
    [InlineData(28, "out of disk space")]
    [InlineData(29, "unseekable descriptor")]
    [InlineData(30, "read-only file system")]
    [InlineData(31, "too many links")]
    [InlineData(32, "broken pipe")]
    [InlineData(33, "input out of range")]
    [InlineData(34, "output out of range")]
    [InlineData(35, "operation would cause deadlock")]
    [InlineData(36, "file name too long")]
    [InlineData(37, "no locks available")]
    [InlineData(38, "system call not available")]
    [InlineData(39, "directory not empty")]
    [InlineData(40, "symbolic link loop")]
    [InlineData(42, "no message of desired type")]
    [InlineData(43, "identifier removed")]
    [InlineData(60, "not a stream device")]
    [InlineData(62, "timer expired")]
    [InlineData(63, "out of stream resources")]
    [InlineData(64, "machine not on network")]
    [InlineData(66, "too many levels of remote in path")]
    [InlineData(67, "link severed")]
    [InlineData(68, "advertise error")]
    [InlineData(69, "srmount error")]
    [InlineData(70, "communication error")]
    [InlineData(71, "protocol error")]
    [InlineData(72, "multihop attempted")]
    [InlineData(74, "bad message type")]
    [InlineData(78, "remote address changed")]
    [InlineData(87, "too many users")]
    [InlineData(88, "not a socket")]
    [InlineData(89, "destination address required")]
    [InlineData(90, "message too long")]
    [InlineData(91, "incorrect protocol type")]
    [InlineData(92, "protocol not available")]
    [InlineData(93, "protocol not supported")]
    [InlineData(94, "socket type not supported")]
    [InlineData(95, "operation not supported")]
    [InlineData(96, "protocol family not supported")]
    [InlineData(97, "address family not supported")]
    [InlineData(98, "address already used")]
    [InlineData(99, "address not available")]
    [InlineData(100, "network down")]
    [InlineData(101, "network unreachable")]
    [InlineData(102, "network reset")]
    [InlineData(103, "connection aborted")]
    [InlineData(104, "connection reset")]
    [InlineData(105, "out of buffer space")]
    [InlineData(106, "already connected")]
    [InlineData(107, "not connected")]
    [InlineData(108, "socket shut down")]
    [InlineData(109, "too many references")]
    [InlineData(110, "timed out")]
    [InlineData(111, "connection refused")]
    [InlineData(112, "host down")]
    [InlineData(113, "host unreachable")]
    [InlineData(114, "operation already in progress")]
    [InlineData(115, "operation in progress")]
    [InlineData(116, "stale NFS file handle")]
    [InlineData(122, "disk quota exceeded")]
    // Linux errnos qmail has no text for, and nonsense.
    [InlineData(41, "unknown error")]
    [InlineData(44, "unknown error")]
    [InlineData(61, "unknown error")]
    [InlineData(75, "unknown error")]
    [InlineData(117, "unknown error")]
    [InlineData(125, "unknown error")]
    [InlineData(133, "unknown error")]
    [InlineData(-1, "unknown error")]
    [InlineData(100000, "unknown error")]
    public void Describe_uses_qmails_texts(int errno, string expected) =>
        ErrorText.Describe(errno).Should().Be(expected);

    private static readonly int[] Temporary =
    [
        Errno.EINTR, Errno.ENOMEM, Errno.ETXTBSY, Errno.EIO, Errno.ETIMEDOUT, Errno.EWOULDBLOCK,
        Errno.EAGAIN, Errno.EDEADLK, Errno.EBUSY, Errno.ENFILE, Errno.EMFILE, Errno.EFBIG, Errno.ENOSPC,
        Errno.ENETDOWN, Errno.ENETUNREACH, Errno.ENETRESET, Errno.ECONNABORTED, Errno.ECONNRESET,
        Errno.ENOBUFS, Errno.ETOOMANYREFS, Errno.ECONNREFUSED, Errno.EHOSTDOWN, Errno.EHOSTUNREACH,
        Errno.EUSERS, Errno.EDQUOT, Errno.ESTALE, Errno.ENOLCK,
    ];

    public static TheoryData<int> TemporaryErrnos() => [.. Temporary];

    [Theory]
    [MemberData(nameof(TemporaryErrnos))]
    public void Temporary_errnos(int errno) => ErrorText.IsTemporary(errno).Should().BeTrue();

    [Fact]
    public void Every_other_errno_is_permanent()
    {
        Enumerable.Range(-1, 200).Where(e => !Temporary.Contains(e))
            .Where(ErrorText.IsTemporary).Should().BeEmpty();
    }

    // The constants are checked against the kernel's own header, where present.
    [Fact]
    public void Errno_constants_match_the_linux_headers()
    {
        var defined = new Dictionary<string, string>();
        foreach (var header in new[] { "/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h" })
        {
            if (!File.Exists(header)) return;
            foreach (Match m in Define().Matches(File.ReadAllText(header)))
                defined[m.Groups[1].Value] = m.Groups[2].Value;
        }
        int Resolve(string name) => int.TryParse(defined[name], out int n) ? n : Resolve(defined[name]);

        var constants = typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static);
        constants.Should().NotBeEmpty();
        foreach (var field in constants)
            ((int)field.GetValue(null)!).Should().Be(Resolve(field.Name), field.Name);
    }

    [GeneratedRegex(@"^#define\s+(E[A-Z0-9]+)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex Define();

    [Fact]
    public void Errno_is_found_in_exceptions_from_dotnet_file_apis()
    {
        using var dir = new Jsmail.TestSupport.TempDir();
        var missing = Record.Exception(() => File.ReadAllBytes(dir["missing"]));
        ErrorText.ErrnoOf(missing!).Should().Be(Errno.ENOENT);
        ErrorText.Describe(missing!).Should().Be("file does not exist");

        // .NET refuses to open a directory as a file with EACCES.
        var directory = Record.Exception(() => File.ReadAllBytes(dir.Path));
        ErrorText.ErrnoOf(directory!).Should().Be(Errno.EACCES);

        // .NET reports ENOTDIR as DirectoryNotFoundException, so the errno is lost
        // (one reason ControlReader makes its own system calls).
        var notDir = Record.Exception(() => File.ReadAllBytes(Path.Combine(typeof(object).Assembly.Location, "x")));
        notDir.Should().BeOfType<DirectoryNotFoundException>();
        ErrorText.ErrnoOf(notDir!).Should().Be(Errno.ENOENT);
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(122, 122)]
    public void Errno_is_the_hresult_of_a_plain_io_exception(int hresult, int expected) =>
        ErrorText.ErrnoOf(new IOException("x", hresult)).Should().Be(expected);

    [Fact]
    public void Exceptions_without_an_errno_have_none()
    {
        ErrorText.ErrnoOf(new IOException("no errno")).Should().BeNull();
        ErrorText.ErrnoOf(new InvalidOperationException()).Should().BeNull();
        ErrorText.Describe(new InvalidOperationException()).Should().Be("unknown error");
        ErrorText.ErrnoOf(new UnauthorizedAccessException("x", new IOException("y", Errno.EPERM))).Should().Be(Errno.EPERM);
        ErrorText.ErrnoOf(new PathTooLongException()).Should().Be(Errno.ENAMETOOLONG);
    }
}
