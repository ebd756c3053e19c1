using Jsmail.Common.Tcp;

namespace Jsmail.SmtpServer;

/// <summary>What a client turned away by a connection limit is told before the close (RFC 3463's 4.7.0).</summary>
public static class LimitReplies
{
    public static byte[] For(ConnectionLimit limit) => limit switch
    {
        ConnectionLimit.Global => "421 4.7.0 too many connections, try again later\r\n"u8.ToArray(),
        ConnectionLimit.PerClient => "421 4.7.0 too many connections from your address, try again later\r\n"u8.ToArray(),
        _ => "421 4.7.0 too many connections from your address in the last minute, try again later\r\n"u8.ToArray(),
    };
}
