using System.Globalization;
using System.Text;
using Jsmail.Common.Queue;

namespace Jsmail.Tcpto;

/// <summary>qmail-tcpto's listing of queue/lock/tcpto: one line per host with a recent timeout.</summary>
public static class TcptoReport
{
    /// <summary>
    /// Pure: <c>&lt;ip&gt; timed out &lt;seconds&gt; seconds ago; # recent timeouts: &lt;count&gt;</c>
    /// per entry. The age is qmail's unsigned subtraction, so a time in the
    /// future shows as a huge number rather than a negative one.
    /// </summary>
    public static byte[] Format(ReadOnlySpan<byte> table, long now)
    {
        var text = new StringBuilder();
        foreach (var e in TcptoTable.Entries(table))
        {
            var age = unchecked((ulong)now - e.LastTimeout);
            text.Append(CultureInfo.InvariantCulture,
                $"{e.Address} timed out {age} seconds ago; # recent timeouts: {e.Count}\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
