using System.Net.Sockets;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>One kept connection to a policy service, with what decides whether it may be reused.</summary>
internal sealed class PolicyConnection(Socket socket, long openedMs) : IDisposable
{
    public Socket Socket { get; } = socket;
    public long OpenedMs { get; } = openedMs;
    public long LastUsedMs { get; set; } = openedMs;
    public int Requests { get; set; }

    /// <summary>Bytes read past the end of an answer: a service that does that is broken, so this is only checked.</summary>
    public byte[] Buffer { get; } = new byte[PolicyReply.MaxLength];

    public bool Reusable(PolicyService service, long nowMs) =>
        nowMs - LastUsedMs < (long)service.MaxIdle.TotalMilliseconds &&
        nowMs - OpenedMs < (long)service.MaxTtl.TotalMilliseconds &&
        (service.RequestLimit == 0 || Requests < service.RequestLimit);

    public void Dispose() => Socket.Dispose();
}
