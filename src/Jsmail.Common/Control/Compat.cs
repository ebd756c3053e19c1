namespace Jsmail.Common.Control;

/// <summary>The administrator's switch to qmail-identical behaviour (architecture §1).</summary>
public static class Compat
{
    /// <summary>
    /// True when the environment holds exactly JSMAIL_COMPAT=qmail. Setuid
    /// programs must not call this: their environment belongs to the caller.
    /// </summary>
    public static bool IsQmail => Os.Libc.Getenv("JSMAIL_COMPAT") is { } value && value.AsSpan().SequenceEqual("qmail"u8);
}
