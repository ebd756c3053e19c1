using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

/// <summary>What tcpserver says about the connection (interfaces §8.1, §13).</summary>
/// <param name="Submission">SUBMISSION set (to anything but 0), as tcprules sets it for port 587: RFC 6409, AUTH before MAIL</param>
public sealed record SmtpClientInfo(byte[] RemoteIp, byte[] RemoteHost, byte[]? RemoteInfo, byte[] LocalHost, byte[]? RelayClient,
    bool Submission = false)
{
    public const string SubmissionVariable = "SUBMISSION";

    /// <summary>
    /// The environment a check program starts with (tcpserver's variables among
    /// it); null: this process's own, as under tcpserver.
    /// </summary>
    public IReadOnlyList<byte[]>? ChildEnvironment { get; init; }

    public static SmtpClientInfo FromEnvironment()
    {
        var unknown = "unknown"u8.ToArray();
        return new SmtpClientInfo(
            Libc.Getenv("TCPREMOTEIP") ?? unknown,
            Libc.Getenv("TCPREMOTEHOST") ?? unknown,
            Libc.Getenv("TCPREMOTEINFO"),
            Libc.Getenv("TCPLOCALHOST") ?? Libc.Getenv("TCPLOCALIP") ?? unknown,
            Libc.Getenv("RELAYCLIENT"),
            Libc.Getenv(SubmissionVariable) is { } s && !s.AsSpan().SequenceEqual("0"u8));
    }
}
