using System.Text;

namespace Jsmail.Smtpd;

/// <summary>What tcpserver says about the connection (interfaces §8.1, §13).</summary>
public sealed record SmtpClientInfo(byte[] RemoteIp, byte[] RemoteHost, byte[]? RemoteInfo, byte[] LocalHost, byte[]? RelayClient)
{
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
            Get("RELAYCLIENT"));
    }
}
