namespace Jsmail.SmtpServer;

/// <summary>
/// Reading a session's environment (the NAME=value entries tcpserver would
/// have given jsmail-smtpd) without putting it into the process's own.
/// </summary>
public static class SessionEnvironment
{
    /// <summary>The value of the last entry for <paramref name="name"/>, or null when it is unset.</summary>
    public static byte[]? Get(IReadOnlyList<byte[]> entries, ReadOnlySpan<byte> name)
    {
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var e = entries[i];
            if (e.Length > name.Length && e[name.Length] == (byte)'=' && e.AsSpan(0, name.Length).SequenceEqual(name))
                return e[(name.Length + 1)..];
        }
        return null;
    }

    public static string? GetText(IReadOnlyList<byte[]> entries, ReadOnlySpan<byte> name) =>
        Get(entries, name) is { } v ? System.Text.Encoding.UTF8.GetString(v) : null;

    /// <summary>DATABYTES as the per-connection program reads it (SmtpdSettings.ScanDataBytes).</summary>
    public static ulong? DataBytes(IReadOnlyList<byte[]> entries) =>
        Get(entries, "DATABYTES"u8) is { } v ? Jsmail.Common.Smtp.Session.SmtpdSettings.ScanDataBytes(v) : null;
}
