using Jsmail.Common.Os;

namespace Jsmail.Common.Tcp;

/// <summary>
/// The rules file could not be read: missing (when that is not allowed),
/// unreadable or damaged. tcpserver drops the connection then; the message is
/// its text ("unable to read PATH: file does not exist"). HResult holds the
/// errno, as in .NET's own IOExceptions, so <see cref="ErrorText.ErrnoOf"/> finds it.
/// </summary>
public sealed class TcpRulesException : IOException
{
    public TcpRulesException(string path, int errno, Exception? inner = null)
        : base($"unable to read {path}: {ErrorText.Describe(errno)}", inner)
    {
        Path = path;
        HResult = errno;
    }

    public string Path { get; }

    /// <summary>The file does not exist (ENOENT), the one failure tcpserver -X lets pass.</summary>
    public bool Missing => HResult == Errno.ENOENT;
}
