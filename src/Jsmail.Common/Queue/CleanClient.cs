using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// The asking side of the qmail-clean protocol (interfaces §2.15, §7): one
/// request <c>todo/&lt;id&gt;\0</c> or <c>foop/&lt;id&gt;\0</c>, then a blocking
/// read of the one-byte reply.
/// </summary>
public sealed class CleanClient(int requestFd, int replyFd)
{
    /// <summary>The reply byte ('+', '!' or 'x'), or null when qmail-clean is gone.</summary>
    public byte? Remove(string kind, ulong id)
    {
        if (!Libc.WriteAll(requestFd, Encoding.ASCII.GetBytes($"{kind}/{id}\0"))) return null;
        Span<byte> reply = stackalloc byte[1];
        return Libc.Read(replyFd, reply) == 1 ? reply[0] : null;
    }
}
