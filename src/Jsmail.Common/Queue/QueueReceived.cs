using System.Text;
using Jsmail.Common.Message;

namespace Jsmail.Common.Queue;

/// <summary>The Received line qmail-queue puts first in every message (§1.5).</summary>
public static class QueueReceived
{
    /// <summary>How the caller invoked the queue, from the login name of its real uid.</summary>
    public static string How(uint realUid, string? loginName) => loginName switch
    {
        "alias" => "by alias",
        "qmaild" => "from network",
        "qmails" => "for bounce",
        _ => "by uid " + realUid,
    };

    public static byte[] Line(int pid, string how, long unixTime)
    {
        var head = Encoding.ASCII.GetBytes($"Received: (qmail {pid} invoked {how}); ");
        var date = Rfc822Date.Format(unixTime);
        var line = new byte[head.Length + date.Length + 1];
        head.CopyTo(line, 0);
        date.CopyTo(line, head.Length);
        line[^1] = (byte)'\n';
        return line;
    }
}
