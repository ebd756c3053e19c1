using System.Net.Sockets;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>
/// Asks one policy service, as Postfix's policy client does: connections
/// are kept and reused across requests (and, in server mode, across
/// sessions) within max_idle, max_ttl and request_limit; a kept connection
/// that turns out broken is given up and the request sent once more on a
/// new one; whatever else goes wrong is a failure the session answers with
/// the service's default. Blocking for the per-connection program, awaited in
/// server mode, the same pool and framing for both.
/// </summary>
public sealed class PolicyClient(PolicyService service)
{
    private readonly Stack<PolicyConnection> _idle = new();

    public PolicyService Service => service;

    private static long NowMs => Environment.TickCount64;

    /// <summary>Asks and waits, at most the service's timeout.</summary>
    public PolicyAnswer Ask(byte[] request)
    {
        var deadline = NowMs + (long)service.Timeout.TotalMilliseconds;
        if (TakeIdle() is { } kept && Exchange(kept, request, deadline, out var answer)) return answer;
        // The connect counts against the timeout too: a service whose listen queue is full never completes it.
        PolicyConnection fresh;
        using (var connectDeadline = new CancellationTokenSource(Remaining(deadline)))
        {
            try { fresh = new PolicyConnection(service.Endpoint.ConnectAsync(connectDeadline.Token).GetAwaiter().GetResult(), NowMs); }
            catch (OperationCanceledException) { return PolicyAnswer.Failed(NotConnected); }
            catch (SocketException e) { return PolicyAnswer.Failed("cannot connect: " + e.Message); }
        }
        Exchange(fresh, request, deadline, out answer);
        return answer;
    }

    private string NotConnected => $"cannot connect within {service.Timeout.TotalSeconds} seconds";

    /// <summary>Asks without blocking a thread. <paramref name="cancel"/> is the session's own deadline, and throws.</summary>
    public async ValueTask<PolicyAnswer> AskAsync(byte[] request, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(service.Timeout);
        try
        {
            if (TakeIdle() is { } kept)
            {
                var (retry, answer) = await ExchangeAsync(kept, request, deadline.Token);
                if (!retry) return answer;
            }
            PolicyConnection fresh;
            try { fresh = new PolicyConnection(await service.Endpoint.ConnectAsync(deadline.Token), NowMs); }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                return PolicyAnswer.Failed(NotConnected);
            }
            catch (SocketException e)
            {
                return PolicyAnswer.Failed("cannot connect: " + e.Message);
            }
            return (await ExchangeAsync(fresh, request, deadline.Token)).Answer;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return PolicyAnswer.Failed($"no answer within {service.Timeout.TotalSeconds} seconds");
        }
    }

    /// <summary>One request and its answer on <paramref name="c"/>; false when a kept connection broke and a new one should be tried.</summary>
    private bool Exchange(PolicyConnection c, byte[] request, long deadline, out PolicyAnswer answer)
    {
        var got = 0;
        try
        {
            c.Socket.SendTimeout = Remaining(deadline);
            c.Socket.Send(request);
            while (true)
            {
                c.Socket.ReceiveTimeout = Remaining(deadline);
                var n = c.Socket.Receive(c.Buffer.AsSpan(got));
                if (Received(c, n, ref got, out answer) is { } done) return done;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            c.Dispose();
            answer = PolicyAnswer.Failed($"no answer within {service.Timeout.TotalSeconds} seconds");
            return true;
        }
        catch (SocketException e) { return Broken(c, "connection broken: " + e.Message, out answer); }
    }

    private async ValueTask<(bool Retry, PolicyAnswer Answer)> ExchangeAsync(PolicyConnection c, byte[] request, CancellationToken deadline)
    {
        var got = 0;
        try
        {
            await c.Socket.SendAsync(request, SocketFlags.None, deadline);
            while (true)
            {
                var n = await c.Socket.ReceiveAsync(c.Buffer.AsMemory(got), SocketFlags.None, deadline);
                if (Received(c, n, ref got, out var answer) is { } done) return (!done, answer);
            }
        }
        catch (OperationCanceledException)
        {
            c.Dispose();
            throw;
        }
        catch (SocketException e) { return (!Broken(c, "connection broken: " + e.Message, out var answer), answer); }
    }

    /// <summary>
    /// After a read of <paramref name="n"/> bytes: null while the answer is
    /// incomplete; true when there is an answer or a failure to report; false
    /// when a kept connection proved broken before answering, so that the
    /// request goes once more on a new connection.
    /// </summary>
    private bool? Received(PolicyConnection c, int n, ref int got, out PolicyAnswer answer)
    {
        answer = default;
        if (n == 0) return Broken(c, got == 0 ? "closed the connection without an answer" : "closed the connection in mid-answer", out answer);
        got += n;
        var length = PolicyReply.Complete(c.Buffer.AsSpan(0, got));
        if (length < 0 && got < c.Buffer.Length) return null;
        if (length != got || PolicyReply.Parse(c.Buffer.AsSpan(0, got)) is not { } verdict)
        {
            c.Dispose();
            answer = PolicyAnswer.Failed("answer not understood");
            return true;
        }
        c.Requests++;
        c.LastUsedMs = NowMs;
        Keep(c);
        answer = new PolicyAnswer(verdict, null);
        return true;
    }

    /// <summary>A connection that failed is closed; a kept one earns one retry (false), a new one is a failure (true).</summary>
    private static bool Broken(PolicyConnection c, string why, out PolicyAnswer answer)
    {
        var kept = c.Requests > 0;
        c.Dispose();
        answer = PolicyAnswer.Failed(why);
        return !kept;
    }

    private static int Remaining(long deadline) => (int)Math.Max(1, deadline - NowMs);

    private PolicyConnection? TakeIdle()
    {
        lock (_idle)
        {
            while (_idle.TryPop(out var c))
            {
                if (c.Reusable(service, NowMs)) return c;
                c.Dispose();
            }
            return null;
        }
    }

    private void Keep(PolicyConnection c)
    {
        if (!c.Reusable(service, NowMs))
        {
            c.Dispose();
            return;
        }
        lock (_idle) _idle.Push(c);
    }
}
