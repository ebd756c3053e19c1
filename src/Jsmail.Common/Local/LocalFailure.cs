namespace Jsmail.Common.Local;

/// <summary>Ends qmail-local: <paramref name="text"/> goes to fd 2 as one line, the exit code is 100 or 111.</summary>
public sealed class LocalFailure(int exitCode, string text) : Exception(text)
{
    public int ExitCode { get; } = exitCode;

    public static LocalFailure Temporary(string text) => new(111, text);
    public static LocalFailure Permanent(string text) => new(100, text);
}
