using Jsmail.Common.Os;

namespace Jsmail.Common.Control;

/// <summary>
/// A control file that has no default is missing (e.g. helohost with no me).
/// qmail programs treat this as fatal; most report it as a temporary failure.
/// </summary>
public sealed class ControlMissingException(string name)
    : Exception($"control/{name} does not exist and has no default")
{
    public string ControlName { get; } = name;
}

/// <summary>
/// A control file exists but could not be read (any error except "does not
/// exist"): a temporary failure for the reading program. HResult holds the
/// errno, so <see cref="ErrorText.ErrnoOf"/> finds it.
/// </summary>
public sealed class ControlReadException(string name, int errno)
    : IOException($"unable to read control/{name}: {ErrorText.Describe(errno)}", errno)
{
    public string ControlName { get; } = name;
    public int Errno { get; } = errno;
}
