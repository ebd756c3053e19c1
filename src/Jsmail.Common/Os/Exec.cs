namespace Jsmail.Common.Os;

/// <summary>
/// Replacing this process by another program, and finding a program on PATH
/// the way execvp does. Every program that execs (the TLS hand-over, jsmail-start,
/// lspawn's delivery child, sendmail, jsmail-queue's re-exec) goes through here.
/// </summary>
public static class Exec
{
    /// <summary>
    /// The search path when PATH is unset: glibc's execvp uses confstr(_CS_PATH),
    /// which is "/bin:/usr/bin" (the current directory left out since glibc 2.24).
    /// </summary>
    public const string DefaultSearchPath = "/bin:/usr/bin";

    /// <summary>
    /// execve(2) of <paramref name="path"/> (no PATH search). <paramref name="envp"/>
    /// null hands on the C library's environment as it is now (setenv shows).
    /// Returns only when the exec failed; <see cref="Libc.Errno"/> is then its errno.
    /// </summary>
    public static unsafe void Replace(string path, IReadOnlyList<byte[]> argv, IReadOnlyList<byte[]>? envp)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = envp == null ? default : new NativeStringArray(envp);
        Libc.Execve(path, nativeArgv.Pointer, envp == null ? Libc.Environ() : nativeEnv.Pointer);
    }

    /// <summary>
    /// execvp's search: a name holding '/' is used as it is; otherwise the first
    /// directory of PATH (<see cref="DefaultSearchPath"/> when unset) holding a file
    /// of that name, an empty entry meaning the current directory. Null when none does.
    /// </summary>
    public static string? FindOnPath(string name)
    {
        if (name.Contains('/')) return name;
        var searchPath = Libc.GetenvText("PATH") ?? DefaultSearchPath;
        foreach (var dir in searchPath.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
