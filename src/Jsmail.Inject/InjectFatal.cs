using System.Text;

namespace Jsmail.Inject;

/// <summary>
/// A fatal error with qmail-inject's exit code (100 permanent, 111 temporary)
/// and the bytes it prints on stderr. An empty Text prints nothing (getopt has
/// already spoken).
/// </summary>
public sealed class InjectFatal(int exitCode, byte[] text) : Exception(Encoding.UTF8.GetString(text))
{
    public const int Permanent = 100, Temporary = 111;

    public int ExitCode { get; } = exitCode;
    public byte[] Text { get; } = text;

    private static readonly byte[] Prefix = "qmail-inject: fatal: "u8.ToArray();

    public static InjectFatal Of(int exitCode, string message) => Of(exitCode, Encoding.ASCII.GetBytes(message));

    /// <summary>"qmail-inject: fatal: " + message; the message carries its own line end if it has one.</summary>
    public static InjectFatal Of(int exitCode, ReadOnlySpan<byte> message) => new(exitCode, [.. Prefix, .. message]);

    public static InjectFatal ParseLine(ReadOnlySpan<byte> line) =>
        Of(Permanent, [.. "unable to parse this line:\n"u8, .. line]);

    public static InjectFatal ReadError() => Of(Temporary, "read error\n");
}
