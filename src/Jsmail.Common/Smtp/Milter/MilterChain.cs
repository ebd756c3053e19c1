using System.Net.Sockets;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// The milters of control/milters for one SMTP session, asked in order at
/// each stage: the first that does not say continue decides. A filter that
/// cannot be reached, times out or breaks the protocol is logged and dropped
/// for the rest of the session; its default action stands in for it (tempfail:
/// every later stage is refused for now; accept: the filter is skipped).
/// </summary>
public sealed class MilterChain(IReadOnlyList<MilterSpec> specs, Action<string> log) : IDisposable
{
    private sealed class Filter(MilterSpec spec)
    {
        public readonly MilterConnection Connection = new(spec);
        public bool Failed, DoneForSession, DoneForMessage, InTransaction;
    }

    private readonly Filter[] _filters = specs.Select(s => new Filter(s)).ToArray();

    /// <summary>The blocking driver's way: the same protocol, waited for.</summary>
    public MilterOutcome Run(MilterRequest request) => RunAsync(request, CancellationToken.None).GetAwaiter().GetResult();

    /// <param name="cancel">the session's own end (its deadline, the server stopping): not a filter's failure</param>
    public async Task<MilterOutcome> RunAsync(MilterRequest request, CancellationToken cancel)
    {
        foreach (var f in _filters)
        {
            if (f.Failed)
            {
                if (f.Connection.Spec.DefaultAction == MilterDefault.Tempfail) return MilterOutcome.Tempfail;
                continue;
            }
            if (request.Stage == MilterStage.Mail) f.DoneForMessage = false;
            if (f.DoneForSession || (f.DoneForMessage && request.Stage > MilterStage.Mail)) continue;
            MilterOutcome outcome;
            try
            {
                if (!f.Connection.IsOpen) await f.Connection.OpenAsync(cancel);
                outcome = await StageAsync(f, request, cancel);
            }
            catch (Exception e) when (!cancel.IsCancellationRequested && e is IOException or SocketException
                or OperationCanceledException or MilterProtocolException or ObjectDisposedException)
            {
                f.Failed = true;
                f.Connection.Dispose();
                var action = f.Connection.Spec.DefaultAction;
                log($"milter {f.Connection.Spec.Endpoint.Text}: {Describe(e)} at {request.Stage}: {(action == MilterDefault.Tempfail ? "tempfail" : "accept")}");
                if (action == MilterDefault.Tempfail) return MilterOutcome.Tempfail;
                continue;
            }
            if (outcome.Verdict != MilterVerdict.Continue) return outcome;
        }
        return MilterOutcome.Continue;
    }

    private static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "no answer in time",
        MilterProtocolException p => p.Message,
        SocketException s => s.SocketErrorCode.ToString(),
        _ => e.Message,
    };

    private async Task<MilterOutcome> StageAsync(Filter f, MilterRequest r, CancellationToken cancel)
    {
        var c = f.Connection;
        switch (r.Stage)
        {
            case MilterStage.Connect:
                var connect = new MilterPacketBuilder(P.Connect).String(r.Argument);
                if (r.ClientAddress.Length > 0) connect.Byte(r.ClientAddress.Contains((byte)':') ? (byte)'6' : (byte)'4').UInt16(0).String(r.ClientAddress);
                else connect.Byte((byte)'U');
                return await CommandAsync(f, r, P.Steps.NoConnect, P.Steps.NoReplyConnect, connect.Build(), cancel, forSession: true);
            case MilterStage.Helo:
                return await CommandAsync(f, r, P.Steps.NoHelo, P.Steps.NoReplyHelo, new MilterPacketBuilder(P.Helo).String(r.Argument).Build(), cancel, forSession: true);
            case MilterStage.Mail:
                // A transaction the filter heard of that never reached its end is aborted first (RSET, a refused DATA, ...).
                if (f.InTransaction) await c.SendAsync(new MilterPacket(P.Abort, []), cancel);
                f.InTransaction = true;
                return await CommandAsync(f, r, P.Steps.NoMail, P.Steps.NoReplyMail, Path(P.Mail, r), cancel);
            case MilterStage.Rcpt:
                return await CommandAsync(f, r, P.Steps.NoRcpt, P.Steps.NoReplyRcpt, Path(P.Rcpt, r), cancel);
            case MilterStage.Data:
                return await CommandAsync(f, r, P.Steps.NoData, P.Steps.NoReplyData, new MilterPacket(P.Data, []), cancel);
            default:
                var outcome = await MilterMessageExchange.RunAsync(c, r, cancel);
                f.InTransaction = false;
                if (outcome == null) { f.DoneForMessage = true; return MilterOutcome.Continue; }
                return outcome;
        }
    }

    private static MilterPacket Path(byte code, MilterRequest r)
    {
        var b = new MilterPacketBuilder(code).String([(byte)'<', .. r.Argument, (byte)'>']);
        foreach (var p in r.Parameters) b.String(p);
        return b.Build();
    }

    /// <summary>One command: its macros, the command, and its reply unless the filter skips the stage or does not answer it.</summary>
    private static async Task<MilterOutcome> CommandAsync(Filter f, MilterRequest r, P.Steps skip, P.Steps noReply,
        MilterPacket command, CancellationToken cancel, bool forSession = false)
    {
        var c = f.Connection;
        if (c.Has(skip)) return MilterOutcome.Continue;
        await MilterMessageExchange.SendMacrosAsync(c, command.Code, MilterMacros.SymListStage(r.Stage)!.Value, r.Macros, cancel);
        await c.SendAsync(command, cancel);
        if (c.Has(noReply)) return MilterOutcome.Continue;
        var reply = await c.ReadAsync(c.Spec.CommandTimeout, cancel);
        var outcome = MilterReplies.Decision(reply, out var accepted)
            ?? throw new MilterProtocolException($"reply '{(char)reply.Code}' to '{(char)command.Code}'");
        if (accepted)
        {
            if (forSession) f.DoneForSession = true;
            else f.DoneForMessage = true;
        }
        return outcome;
    }

    /// <summary>Tells the filters the session is over (SMFIC_QUIT, never waited for) and closes their sockets.</summary>
    public void Dispose()
    {
        foreach (var f in _filters)
        {
            if (!f.Connection.IsOpen) continue;
            f.Connection.TrySendQuit();
            f.Connection.Dispose();
        }
    }
}
