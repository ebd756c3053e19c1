using System.Text;

namespace Jsmail.Smtpd;

/// <summary>What tcpserver says about the connection (interfaces §8.1, §13).</summary>
/// <param name="Submission">SUBMISSION set (to anything but 0), as tcprules sets it for port 587: RFC 6409, AUTH before MAIL</param>
public sealed record SmtpClientInfo(byte[] RemoteIp, byte[] RemoteHost, byte[]? RemoteInfo, byte[] LocalHost, byte[]? RelayClient,
    bool Submission = false)
{
    public const string SubmissionVariable = "SUBMISSION";

    public static SmtpClientInfo FromEnvironment()
    {
        static byte[]? Get(string name) =>
            Environment.GetEnvironmentVariable(name) is { } v ? Encoding.UTF8.GetBytes(v) : null;
        var unknown = "unknown"u8.ToArray();
        return new SmtpClientInfo(
            Get("TCPREMOTEIP") ?? unknown,
            Get("TCPREMOTEHOST") ?? unknown,
            Get("TCPREMOTEINFO"),
            Get("TCPLOCALHOST") ?? Get("TCPLOCALIP") ?? unknown,
            Get("RELAYCLIENT"),
            Environment.GetEnvironmentVariable(SubmissionVariable) is { } s && s != "0");
    }
}
