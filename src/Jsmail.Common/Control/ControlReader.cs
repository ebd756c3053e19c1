using Jsmail.Common.Os;

namespace Jsmail.Common.Control;

/// <summary>
/// Reads <c>home/control/&lt;name&gt;</c> with qmail's defaults (interfaces §0.2).
/// Only "does not exist" (ENOENT) counts as missing; every other error throws
/// <see cref="ControlReadException"/>, which callers report as a temporary failure.
/// </summary>
public sealed class ControlReader(string home)
{
    /// <summary>Larger control files are refused (EFBIG) rather than read into memory.</summary>
    public const int MaxFileBytes = 16 * 1024 * 1024;

    public string Home { get; } = home;

    /// <summary>
    /// A line value. A missing file falls back to control/me when
    /// <paramref name="fallbackToMe"/>, then to <paramref name="literalDefault"/>;
    /// with neither, <see cref="ControlMissingException"/>. A present but empty
    /// file is the empty value, not a reason to fall back.
    /// </summary>
    public byte[] ReadLine(string name, bool fallbackToMe, byte[]? literalDefault)
    {
        if (Read(name, firstLineOnly: true) is { } file) return ControlParse.Line(file);
        if (fallbackToMe && Read("me", firstLineOnly: true) is { } me) return ControlParse.Line(me);
        return literalDefault ?? throw new ControlMissingException(name);
    }

    /// <summary>An integer value; <paramref name="defaultValue"/> when missing or not starting with a digit.</summary>
    public uint ReadInt(string name, uint defaultValue) =>
        Read(name, firstLineOnly: true) is { } file ? ControlParse.Integer(file) ?? defaultValue : defaultValue;

    /// <summary>A list value; a missing file is an empty list.</summary>
    public List<byte[]> ReadList(string name) => ReadListIfPresent(name) ?? [];

    /// <summary>
    /// A list value, or null when the file is missing, for files where absence
    /// means something else than emptiness (rcpthosts: missing accepts every domain,
    /// empty accepts none).
    /// </summary>
    public List<byte[]>? ReadListIfPresent(string name) =>
        Read(name, firstLineOnly: false) is { } file ? ControlParse.List(file) : null;

    /// <summary>
    /// A list file named by a path relative to the home (or absolute), as a
    /// variable such as qmail-spp's SPPCONFFILE names one; null when missing.
    /// </summary>
    public List<byte[]>? ReadFileListIfPresent(string path) =>
        ReadPath(Path.Combine(Home, path), path, firstLineOnly: false) is { } file ? ControlParse.List(file) : null;

    /// <summary>A <c>key:value</c> map (virtualdomains, smtproutes); a missing file is an empty map.</summary>
    public ControlMap ReadMap(string name) => new(ReadList(name));

    /// <summary>control/locals; when missing, the single entry me; with me missing too, <see cref="ControlMissingException"/>.</summary>
    public List<byte[]> ReadLocals() =>
        ReadListIfPresent("locals")
        ?? (Read("me", firstLineOnly: true) is { } me ? [ControlParse.Line(me)] : throw new ControlMissingException("locals"));

    /// <summary>
    /// The file's bytes, or null if it does not exist. With
    /// <paramref name="firstLineOnly"/> reading stops after the first LF, as
    /// qmail reads no further for line and integer values.
    /// </summary>
    private byte[]? Read(string name, bool firstLineOnly) =>
        ReadPath(Path.Combine(Home, "control", name), name, firstLineOnly);

    private static byte[]? ReadPath(string path, string name, bool firstLineOnly)
    {
        int fd;
        // O_NONBLOCK as in qmail's open_read: a FIFO must not hang the program at open.
        do fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        while (fd < 0 && Libc.Errno == Errno.EINTR);
        if (fd < 0)
        {
            int errno = Libc.Errno;
            return errno == Errno.ENOENT ? null : throw new ControlReadException(name, errno);
        }
        using var file = new OwnedFd(fd);
        using var contents = new MemoryStream();
        Span<byte> chunk = stackalloc byte[4096];
        while (true)
        {
            int n = Libc.Read(file.Fd, chunk); // retries EINTR itself
            if (n < 0) throw new ControlReadException(name, Libc.Errno);
            if (n == 0) break;
            if (contents.Length + n > MaxFileBytes) throw new ControlReadException(name, Errno.EFBIG);
            contents.Write(chunk[..n]);
            if (firstLineOnly && chunk[..n].Contains((byte)'\n')) break;
        }
        return contents.ToArray();
    }
}
