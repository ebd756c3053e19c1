namespace Jsmail.Common.Os;

/// <summary>The bytes between a blocking server and its client: the plain fds, or TLS over them after STARTTLS.</summary>
public interface IByteTransport
{
    /// <summary>Bytes read (&gt; 0), 0 at end of input or on an error, -1 when the timeout passed first.</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes everything; false when the client is gone or the timeout passed.</summary>
    bool Write(ReadOnlySpan<byte> data);

    /// <summary>The session is over: TLS says so with its close_notify; the plain fds need nothing.</summary>
    void Close();
}

/// <summary>A client on two fds (tcpserver's 0 and 1), each read and write bounded by a timeout (timeoutsmtpd as in qmail).</summary>
public sealed class FdTransport(int inFd, int outFd, int timeoutSeconds) : IByteTransport
{
    public int InFd => inFd;
    public int OutFd => outFd;
    public int TimeoutSeconds => timeoutSeconds;

    public int Read(Span<byte> buffer)
    {
        if (!Wait(inFd, Libc.POLLIN)) return -1;
        var n = Libc.Read(inFd, buffer);
        return n < 0 ? 0 : n;
    }

    public bool Write(ReadOnlySpan<byte> data)
    {
        var done = 0;
        while (done < data.Length)
        {
            if (!Wait(outFd, Libc.POLLOUT)) return false;
            var n = Libc.WriteOnce(outFd, data[done..]);
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    public void Close() { }

    private bool Wait(int fd, short events)
    {
        Span<Libc.PollFd> p = stackalloc Libc.PollFd[1];
        p[0] = new Libc.PollFd { Fd = fd, Events = events };
        return Libc.Poll(p, timeoutSeconds * 1000) > 0;
    }
}
