using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// The blocking driver: runs a session over a transport (tcpserver's fds 0 and 1, TLS over them
/// after STARTTLS) with qmail's timeout on every read and write. Replies are
/// flushed before each read, so a pipelined group is answered in order in as
/// few writes as possible, and right after 354, so that nothing past DATA is
/// read before the client has its go-ahead (RFC 2920 §3.1). The session's
/// effects are done here and then, each child waited for; its message sinks
/// must be <see cref="IBlockingMessageSink"/>s.
/// </summary>
/// <param name="tls">the handshake after STARTTLS's 220; null when there is no certificate</param>
public sealed class SmtpConnection(SmtpSession session, FdTransport plain, ITlsUpgrade? tls, Action<string>? log = null)
{
    private enum Fill { Read, TimedOut, Ended }

    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used
    private int _start, _end;
    private IByteTransport _transport = plain;

    /// <summary>Runs the conversation; returns the exit code.</summary>
    public int Run()
    {
        return Drive(Resolve(session.Greet()));
    }

    /// <summary>jsmail-smtpd answered STARTTLS with 220 and handed the connection over: the handshake comes first.</summary>
    public int RunAfterStartTls(int authFailures)
    {
        session.AuthFailures = authFailures;
        return Drive(SessionStep.StartTls);
    }

    private int Drive(SessionStep step)
    {
        var discarding = false; // inside an over-long line, until its LF
        while (true)
        {
            if (step == SessionStep.Close)
            {
                if (!Flush()) return 1;
                _transport.Close();
                return session.ExitCode;
            }
            if (step == SessionStep.StartTls)
            {
                if (!StartTls()) return 1;
                discarding = false;
                step = SessionStep.Command;
                continue;
            }
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
                step = Resolve(step);
                if (step == SessionStep.Command && !Flush()) return 1;
                continue;
            }
            var next = CommandInput.Next(session, _buffer.AsSpan(_start, _end - _start), ref discarding, out var consumed);
            _start += consumed;
            if (next is { } line)
            {
                step = Resolve(line);
                if (step == SessionStep.Data && !Flush()) { session.Hangup(); return 1; }
                continue;
            }
            var fill = Read();
            if (fill == Fill.Ended) return 1;
            if (fill == Fill.TimedOut) step = session.Timeout();
        }
    }

    /// <summary>
    /// After the 220: whatever the client sent behind STARTTLS in the clear is
    /// dropped, never read as commands of the TLS session (the STARTTLS command
    /// injection of CVE-2011-0411). A failed handshake ends the connection
    /// without a word: there is no channel left to say it on.
    /// </summary>
    private bool StartTls()
    {
        if (!Flush()) return false;
        if (_end > _start) log?.Invoke($"dropped {_end - _start} bytes sent in the clear after STARTTLS");
        _start = _end = 0;
        if (tls?.Handshake(plain, session.AuthFailures, out var description) is not { } secure)
        {
            log?.Invoke("TLS handshake failed");
            return false;
        }
        _transport = secure;
        session.TlsStarted(description);
        return true;
    }

    /// <summary>Does the session's effects, one after another, until it asks for something else.</summary>
    private SessionStep Resolve(SessionStep step)
    {
        while (step == SessionStep.Effect)
        {
            step = session.PendingEffect switch
            {
                CheckProgramEffect check => session.CheckProgramDone(ChildRunner.Run(check.Request)),
                AuthenticateEffect authenticate => session.AuthenticateDone(ChildRunner.Run(authenticate.Request)),
                SppPluginEffect plugin => session.SppPluginDone(ChildRunner.Run(plugin.Request)),
                CommitMessageEffect commit => session.CommitDone(Commit(commit)),
                NativePluginEffect native => session.NativePluginDone(native.Call.Run()),
                PolicyEffect policy => session.PolicyDone(policy.Client.Ask(policy.Request)),
                MilterEffect milter => session.MilterDone(milter.Chain.Run(milter.Request)),
                var other => throw new InvalidOperationException($"no way to do {other}"),
            };
        }
        return step;
    }

    private static QueueResult Commit(CommitMessageEffect commit) => commit.Sink is IBlockingMessageSink sink
        ? sink.Commit(commit.Envelope)
        : throw new InvalidOperationException("a blocking driver needs sinks it can commit");

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
        var n = _transport.Read(_buffer.AsSpan(_end));
        if (n < 0) return Fill.TimedOut;
        if (n == 0) return Fill.Ended;
        _end += n;
        return Fill.Read;
    }

    private bool Flush()
    {
        var output = session.Output;
        if (output.Count == 0) return true;
        var bytes = output.ToArray();
        output.Clear();
        return _transport.Write(bytes);
    }
}
