using Jsmail.Common.Os;

namespace Jsmail.Smtpd;

/// <summary>
/// Drives a session over two file descriptors (tcpserver's 0 and 1) with
/// qmail's timeout on every read and write. Replies are flushed before each
/// read, so a pipelined group is answered in order in as few writes as
/// possible, and right after 354, so that nothing past DATA is read before
/// the client has its go-ahead (RFC 2920 §3.1).
/// </summary>
public sealed class SmtpConnection(SmtpSession session, int inFd, int outFd, int timeoutSeconds)
{
    private enum Fill { Read, TimedOut, Ended }

    private readonly byte[] _buffer = new byte[65536];
    private int _start, _end;

    /// <summary>Runs the conversation; returns the exit code.</summary>
    public int Run()
    {
        session.Greet();
        var step = SessionStep.Command;
        var discarding = false; // inside an over-long line, until its LF
        while (true)
        {
            if (step == SessionStep.Close) return Flush() ? session.ExitCode : 1;
            if (step == SessionStep.Data)
            {
                if (_start == _end)
                {
                    var f = Read();
                    if (f == Fill.Ended) { session.Hangup(); return 1; }
                    if (f == Fill.TimedOut) { step = session.Timeout(); continue; }
                }
                step = session.Data(_buffer.AsSpan(_start, _end - _start), out var used);
                _start += used;
                if (step == SessionStep.Command && !Flush()) return 1;
                continue;
            }
            var pending = _buffer.AsSpan(_start, _end - _start);
            var lf = pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                _start += lf + 1;
                if (discarding) { discarding = false; step = session.LineTooLong(); continue; }
                step = lf + 1 > SmtpSession.MaxCommandLine ? session.LineTooLong() : session.Command(pending[..lf]);
                if (step == SessionStep.Data && !Flush()) { session.Hangup(); return 1; }
                continue;
            }
            if (pending.Length >= SmtpSession.MaxCommandLine)
            {
                discarding = true;
                _start = _end = 0;
            }
            var fill = Read();
            if (fill == Fill.Ended) return 1;
            if (fill == Fill.TimedOut) step = session.Timeout();
        }
    }

    /// <summary>Sends pending replies, then waits for and reads more input.</summary>
    private Fill Read()
    {
        if (!Flush()) return Fill.Ended;
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (!Wait(inFd, Libc.POLLIN)) return Fill.TimedOut;
        var n = Libc.Read(inFd, _buffer.AsSpan(_end));
        if (n <= 0) return Fill.Ended;
        _end += n;
        return Fill.Read;
    }

    private bool Flush()
    {
        var output = session.Output;
        if (output.Count == 0) return true;
        var bytes = output.ToArray();
        output.Clear();
        var done = 0;
        while (done < bytes.Length)
        {
            if (!Wait(outFd, Libc.POLLOUT)) return false;
            var n = Libc.WriteOnce(outFd, bytes.AsSpan(done));
            if (n <= 0) return false;
            done += n;
        }
        return true;
    }

    private bool Wait(int fd, short events)
    {
        Span<Libc.PollFd> p = stackalloc Libc.PollFd[1];
        p[0] = new Libc.PollFd { Fd = fd, Events = events };
        return Libc.Poll(p, timeoutSeconds * 1000) > 0;
    }
}
