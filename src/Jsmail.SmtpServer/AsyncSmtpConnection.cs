using System.Buffers;
using System.Net.Security;
using System.Security.Authentication;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Session;
using Jsmail.Common.Tls;
using Jsmail.SmtpServer.Queueing;

namespace Jsmail.SmtpServer;

/// <summary>
/// The event-driven driver: runs one session over a socket's stream (an
/// SslStream after STARTTLS or on an smtps port) with awaited reads and
/// writes, no thread of its own. It frames input as the per-connection driver
/// does (whole lines, over-long ones refused, replies flushed before each read
/// and right after 354), does the session's effects without blocking (child
/// programs through ChildRunner.RunAsync), and holds a read buffer only while
/// there is input to work on, so that an idle connection costs little.
/// </summary>
public sealed class AsyncSmtpConnection(SmtpSession session, Stream plain, ConnectionTimer timer, SessionContext context)
{
    private const int BufferSize = 16384;

    private Stream _stream = plain;
    private byte[]? _buffer;
    private int _start, _end;
    private bool _endingMessage; // DATA's input ended: the next reply is the one to the final dot

    /// <summary>Runs the conversation; returns the session's exit code (1 when the connection broke).</summary>
    public async Task<int> RunAsync(bool implicitTls)
    {
        try
        {
            if (implicitTls && !await HandshakeAsync()) return 1;
            return await DriveAsync(session.Greet());
        }
        catch (OperationCanceledException) when (timer.Expired != Expiry.None)
        {
            return await TimedOutAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or AuthenticationException or InvalidOperationException)
        {
            session.Hangup();
            return 1;
        }
        finally
        {
            if (_buffer != null) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            await _stream.DisposeAsync();
        }
    }

    private async Task<int> DriveAsync(SessionStep step)
    {
        var discarding = false; // inside an over-long line, until its LF
        while (true)
        {
            switch (step)
            {
                case SessionStep.Close:
                    await FlushAsync();
                    if (_stream is SslStream ssl) await ssl.ShutdownAsync();
                    return session.ExitCode;
                case SessionStep.StartTls:
                    await FlushAsync();
                    if (_end > _start) context.Log($"dropped {_end - _start} bytes sent in the clear after STARTTLS");
                    _start = _end = 0;
                    if (!await HandshakeAsync()) return 1;
                    discarding = false;
                    step = SessionStep.Command;
                    continue;
                case SessionStep.Effect:
                    step = await ResolveAsync();
                    if (step == SessionStep.Command) MessageEnded();
                    if (step is SessionStep.Command or SessionStep.Data) await FlushAsync();
                    continue;
                case SessionStep.Data:
                    if (_start == _end && !await FillAsync()) { session.Hangup(); return 1; }
                    step = session.Data(_buffer.AsSpan(_start, _end - _start), out var used);
                    _start += used;
                    if (step != SessionStep.Data) _endingMessage = true;
                    if (step == SessionStep.Command)
                    {
                        MessageEnded();
                        await FlushAsync();
                    }
                    continue;
            }
            var next = CommandInput.Next(session, _buffer.AsSpan(_start, _end - _start), ref discarding, out var consumed);
            _start += consumed;
            if (next is { } line)
            {
                step = line;
                if (step == SessionStep.Data) await FlushAsync();
                continue;
            }
            if (!await FillAsync()) { session.Hangup(); return 1; }
        }
    }

    /// <summary>Counts the message whose DATA just ended by its reply's class (the reply waits unsent in the output).</summary>
    private void MessageEnded()
    {
        if (!_endingMessage) return;
        _endingMessage = false;
        if (session.Output.Count > 0) context.Metrics?.MessageEnded(session.Output[0]);
    }

    /// <summary>Does the session's effects, one after another, until it asks for something else.</summary>
    private async ValueTask<SessionStep> ResolveAsync()
    {
        var step = SessionStep.Effect;
        while (step == SessionStep.Effect)
        {
            step = session.PendingEffect switch
            {
                CheckProgramEffect check => session.CheckProgramDone(await ChildRunner.RunAsync(InSessionEnvironment(check.Request), timer.Token)),
                AuthenticateEffect auth => session.AuthenticateDone(await ChildRunner.RunAsync(InSessionEnvironment(auth.Request), timer.Token)),
                SppPluginEffect plugin => session.SppPluginDone(await ChildRunner.RunAsync(InSessionEnvironment(plugin.Request), timer.Token)),
                CommitMessageEffect commit => session.CommitDone(await CommitAsync(commit)),
                NativePluginEffect native => session.NativePluginDone(await native.Call.RunAsync(timer.Token)),
                PolicyEffect policy => session.PolicyDone(await policy.Client.AskAsync(policy.Request, timer.Token)),
                MilterEffect milter => session.MilterDone(await milter.Chain.RunAsync(milter.Request, timer.Token)),
                var other => throw new InvalidOperationException($"no way to do {other}"),
            };
        }
        return step;
    }

    /// <summary>A child the session asks for with no environment of its own gets the session's, as under tcpserver.</summary>
    private ChildRequest InSessionEnvironment(ChildRequest request) => request.Environment != null ? request
        : new ChildRequest(request.Program, request.Argv)
        {
            Environment = context.Environment, Fds = request.Fds, TimeLimit = request.TimeLimit, KillGroupAtExit = request.KillGroupAtExit,
        };

    private async ValueTask<QueueResult> CommitAsync(CommitMessageEffect commit)
    {
        if (commit.Sink is not MemfdMessageSink sink) throw new InvalidOperationException("not this driver's sink");
        return await sink.CommitAsync(commit.Envelope, timer.Token);
    }

    /// <summary>
    /// The server side of TLS. A failed handshake ends the connection without
    /// a word: there is no channel left to say it on.
    /// </summary>
    private async Task<bool> HandshakeAsync()
    {
        if (context.Tls.Certificate is not { } certificate)
        {
            context.Log("TLS handshake failed: no usable certificate");
            return false;
        }
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        timer.StartIo(DeadlineSweeper.Now, context.TimeoutSeconds);
        try { await ssl.AuthenticateAsServerAsync(ServerCertificate.Options(certificate), timer.Token); }
        catch (Exception e) when (e is IOException or AuthenticationException or System.Security.Cryptography.CryptographicException)
        {
            context.Log("TLS handshake failed");
            await ssl.DisposeAsync();
            return false;
        }
        finally { timer.EndIo(); }
        _stream = ssl;
        context.Metrics?.TlsStarted(ssl.SslProtocol);
        session.TlsStarted(ServerCertificate.Describe(ssl.SslProtocol, ssl.NegotiatedCipherSuite.ToString()));
        return true;
    }

    /// <summary>Sends pending replies, then waits for more input. False at the client's end of input.</summary>
    private async ValueTask<bool> FillAsync()
    {
        await FlushAsync();
        if (_start == _end && _buffer != null)
        {
            // Nothing buffered: wait for input without holding a buffer (a zero-byte read).
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _start = _end = 0;
        }
        timer.StartIo(DeadlineSweeper.Now, context.TimeoutSeconds);
        try
        {
            if (_buffer == null)
            {
                _ = await _stream.ReadAsync(Memory<byte>.Empty, timer.Token); // returns when there is input (or its end)
                _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            }
            else if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var n = await _stream.ReadAsync(_buffer.AsMemory(_end), timer.Token);
            _end += n;
            context.Metrics?.Received(n);
            return n > 0;
        }
        finally { timer.EndIo(); }
    }

    /// <summary>
    /// Replies go out before every read, so what waits here is at most what one
    /// buffer of pipelined commands produced; a client that does not read them
    /// meets the write deadline and is dropped, and nobody else waits for it.
    /// </summary>
    private async ValueTask FlushAsync()
    {
        var output = session.Output;
        if (output.Count == 0) return;
        var bytes = output.ToArray();
        output.Clear();
        timer.StartIo(DeadlineSweeper.Now, context.TimeoutSeconds);
        try
        {
            await _stream.WriteAsync(bytes, timer.Token);
            await _stream.FlushAsync(timer.Token);
        }
        finally { timer.EndIo(); }
    }

    /// <summary>
    /// A deadline passed: as qmail-smtpd, a message in progress is dropped and
    /// the client is told 451 timeout, if it still reads (a write that itself
    /// timed out gets nothing more).
    /// </summary>
    private async Task<int> TimedOutAsync()
    {
        context.Log(timer.Expired switch
        {
            Expiry.Session => "session deadline passed: dropped",
            Expiry.Stopping => "server stopping: dropped",
            _ => "timeout: dropped",
        });
        session.Output.Clear();
        session.Timeout();
        var bytes = session.Output.ToArray();
        session.Output.Clear();
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await _stream.WriteAsync(bytes, last.Token); }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException) { }
        return 1;
    }
}
