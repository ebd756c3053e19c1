namespace Jsmail.Common.Control;

/// <summary>
/// The installation's home (qmail's /var/qmail): the parent of the bin/
/// directory holding the running executable, so that several installations can
/// live side by side. Never taken from the environment, which a setuid
/// program's caller controls.
/// </summary>
public static class QmailHome
{
    /// <summary>
    /// The home of the program at <paramref name="realExecutablePath"/>, an absolute
    /// path with every symbolic link resolved: /var/qmail/bin/jsmail-queue gives
    /// /var/qmail. An executable outside a directory named bin is refused
    /// rather than guessed at, since a wrong home means reading someone else's
    /// control files and queue.
    /// </summary>
    public static string FromExecutable(string realExecutablePath)
    {
        if (!Path.IsPathFullyQualified(realExecutablePath) || Path.GetFileName(realExecutablePath).Length == 0)
            throw new InvalidOperationException($"not an absolute path to an executable: {realExecutablePath}");
        string bin = Path.GetDirectoryName(realExecutablePath)!;
        if (Path.GetFileName(bin) != "bin")
            throw new InvalidOperationException($"executable is not in a bin directory: {realExecutablePath}");
        return Path.GetDirectoryName(bin)!;
    }

    /// <summary>
    /// The home of the running program. Environment.ProcessPath is the kernel's
    /// /proc/self/exe passed through realpath, so it is already free of symbolic
    /// links whichever name (jsmail-queue, qmail-queue) the program was started by.
    /// </summary>
    public static string Current =>
        FromExecutable(Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the running executable"));
}
