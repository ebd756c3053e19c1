using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.SmtpServer;

/// <summary>
/// The log on stderr, one whole line per write: per connection the lines
/// tcpserver writes (status n/max, pid … from IP, ok/deny, end … status), with
/// the session id in place of tcpserver's child pid, so that tools reading
/// tcpserver's log read this one; and each session's own lines as
/// jsmail-smtpd writes them. Control bytes, which could forge a line or a
/// terminal escape, become '?'.
/// </summary>
public sealed class ServerLog
{
    private readonly object _lock = new();

    public void Status(int open, int max) => Line($"tcpserver: status: {open}/{max}");

    public void Connected(long id, string remoteIp) => Line($"tcpserver: pid {id} from {remoteIp}");

    /// <summary>tcpserver's "ok"/"deny" line: local host:ip:port, remote host:ip:info:port (unknown names empty).</summary>
    public void Decided(bool allowed, long id, string localHost, string localIp, int localPort, string remoteHost, string remoteIp, int remotePort) =>
        Line($"tcpserver: {(allowed ? "ok" : "deny")} {id} {localHost}:{localIp}:{localPort} {remoteHost}:{remoteIp}::{remotePort}");

    public void Ended(long id, int status) => Line($"tcpserver: end {id} status {status}");

    /// <summary>A line of the session, as jsmail-smtpd logs it: "jsmail-smtpd: IP: text".</summary>
    public void Session(string remoteIp, string text) => Line($"jsmail-smtpd: {remoteIp}: {text}");

    /// <summary>The server's own lines: start, reload, stop, trouble.</summary>
    public void Server(string text) => Line("jsmail-smtpd-server: " + text);

    private void Line(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i++)
            if (bytes[i] is < 32 or 127) bytes[i] = (byte)'?';
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        lock (_lock) Libc.WriteAll(2, line);
    }
}
