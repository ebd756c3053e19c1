using System.Text;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>DATA: the message into a sink as it arrives, then its commit as an effect.</summary>
public sealed partial class SmtpSession
{
    /// <summary>
    /// Made at the first DATA and kept for the next messages: a server holds
    /// thousands of idle sessions, which should not each hold 16 KiB they may
    /// never use. Not zeroed: only written bytes are read.
    /// </summary>
    private byte[]? _decoded;

    /// <summary>How much input is decoded at a time, into <see cref="_decoded"/>.</summary>
    private const int DecodePiece = 16384;

    private byte[] DecodeBuffer() => _decoded ??= GC.AllocateUninitializedArray<byte>(
        Math.Max(SmtpDataDecoder.MaxOutput(DecodePiece), SmtpChunkDecoder.MaxOutput(DecodePiece)));

    /// <summary>The client went away: a message in progress is not queued, a pending effect is forgotten (as by Timeout).</summary>
    public void Hangup()
    {
        DropPendingEffect();
        ForgetChunk();
        AbortMessage();
        CloseMilters();
    }

    private SessionStep Data()
    {
        var t = _transaction;
        // RFC 3030 §2-3: no DATA in a transaction BDAT began, nor for a message only BDAT can carry.
        if (t.Chunking || t.Binary)
        {
            AbortTransaction();
            return Reply(503, t.Binary ? "BODY=BINARYMIME needs BDAT, not DATA (#5.5.1)" : "DATA after BDAT (#5.5.1)");
        }
        if (!t.SeenMail) return Reply(SmtpReplyId.MailFirst);
        if (t.Recipients.Count == 0) return Reply(SmtpReplyId.RcptFirst);
        return SppData((_, _) => AskPolicy(PolicyStages.Data, t, null,
            () => Filtered(Milter.MilterStage.Data, [], null,
                () => NativeHook(Plugins.Native.NativeAbi.Event.Data, null, () => DataAccepted(t)))));
    }

    private SessionStep DataAccepted(Transaction t)
    {
        if (!OpenMessage(t)) return Reply(SmtpReplyId.QqtFailure);
        Reply(SmtpReplyId.GoAhead);
        t.Decoder = new SmtpDataDecoder(allowBareCr: !settings.Has(Standards.RefuseBareCr));
        return SessionStep.Data;
    }

    /// <summary>The message's sink, with what goes on top of the client's bytes; false (and no transaction) when there is no sink.</summary>
    private bool OpenMessage(Transaction t)
    {
        t.SeenMail = false;
        t.Sink = HeldForFilters(openSink());
        if (t.Sink == null)
        {
            _transaction = new Transaction();
            return false;
        }
        t.Hops = new SmtpHopCounter();
        if (t.Sink is not HeldMessageSink && t.Edits.Hold is { } hold)
            t.Sink.Write(MessageQuarantine.Divert(t.Envelope(), hold, settings.Quarantine).Note.Header); // the envelope is complete now
        WritePrepended(t);
        t.Sink.Write(SmtpReceived.Build(client.RemoteHost, _helo, client.RemoteInfo, client.RemoteIp,
            client.LocalHost, ReceivedProtocol(), clock()));
        SppHeadersInto(t.Sink);
        return true;
    }

    /// <summary>Message data (DATA's, or a BDAT chunk's) as it arrives. consumed says how much of it belonged to the message.</summary>
    public SessionStep Data(ReadOnlySpan<byte> chunk, out int consumed)
    {
        RefuseWhilePending("message data");
        if (_chunkLeft > 0) return ChunkData(chunk, out consumed);
        consumed = 0;
        var t = _transaction;
        if (t.Decoder == null || t.Sink == null) throw new InvalidOperationException("message data outside DATA");
        var decoded = DecodeBuffer();
        while (consumed < chunk.Length)
        {
            var piece = chunk[consumed..];
            if (piece.Length > DecodePiece) piece = piece[..DecodePiece];
            var status = t.Decoder!.Decode(piece, decoded, out var used, out var written);
            consumed += used;
            Deliver(t, decoded.AsSpan(0, written));
            switch (status)
            {
                case SmtpDataStatus.End: return EndOfData(t);
                case SmtpDataStatus.BareLf:
                    AbortMessage();
                    Reply(SmtpReplyId.Smtplf);
                    return CloseWith(1);
                case SmtpDataStatus.BareCr:
                    AbortMessage();
                    Reply(SmtpReplyId.BareCrInData);
                    return CloseWith(1);
            }
        }
        return SessionStep.Data;
    }

    private void Deliver(Transaction t, ReadOnlySpan<byte> decoded)
    {
        if (decoded.IsEmpty) return;
        t.Hops!.Feed(decoded);
        Store(t, decoded);
    }

    /// <summary>Message bytes into the sink, up to databytes; past it, dropped, and the message is refused at its end.</summary>
    private void Store(Transaction t, ReadOnlySpan<byte> decoded)
    {
        if (t.Overflow) return;
        if (DataBytes > 0 && t.DataBytes + (ulong)decoded.Length > DataBytes)
        {
            t.Overflow = true; // the rest is read and dropped; nothing is queued
            return;
        }
        t.DataBytes += (ulong)decoded.Length;
        t.Sink!.Write(decoded);
    }

    private SessionStep EndOfData(Transaction t)
    {
        var sink = t.Sink!;
        if (t.Hops!.Hops >= MaxHops || t.Overflow)
        {
            _transaction = new Transaction();
            sink.Abort();
            return Reply(t.Hops.Hops >= MaxHops ? SmtpReplyId.Looping : SmtpReplyId.TooBig);
        }
        return AskPolicy(PolicyStages.EndOfMessage, t, null, () => NativeHook(Plugins.Native.NativeAbi.Event.EndOfData, null,
            () => MiltersOn && sink is HeldMessageSink held ? FilterMessage(t, held) : Commit(t, sink), onRefusal: AbortMessage));
    }

    /// <summary>
    /// With milters, or policy services asked at END-OF-MESSAGE (whose HOLD
    /// comes once the message is in), a message is held whole until its end.
    /// </summary>
    private IMessageSink? HeldForFilters(IMessageSink? sink) =>
        sink != null && (MiltersOn || PolicyAt(PolicyStages.EndOfMessage)) ? new HeldMessageSink(sink) : sink;

    /// <summary>The message of a <see cref="CommitMessageEffect"/> was committed, or not: the reply to the final dot.</summary>
    public SessionStep CommitDone(QueueResult result)
    {
        if (PendingEffect is not CommitMessageEffect commit) throw new InvalidOperationException("no commit pending");
        PendingEffect = null;
        if (result.Success)
        {
            var text = Encoding.ASCII.GetBytes($"ok {clock()} qp {commit.Sink.Pid}");
            SmtpReplies.Append(_out, 250, "2.0.0", text, Enhanced);
        }
        else
        {
            var text = QueueText(result);
            SmtpReplies.Append(_out, result.Permanent ? 554 : 451,
                SmtpReplies.FromText(text) ?? (result.Permanent ? "5.3.0" : "4.3.0"), text, Enhanced);
        }
        return SessionStep.Command;
    }

    /// <summary>The queue's text without its class letter; a filter's own text could hold CR or LF.</summary>
    private static byte[] QueueText(QueueResult result)
    {
        var text = result.Message.ToArray();
        for (var i = 0; i < text.Length; i++) if (text[i] is 0 or (byte)'\r' or (byte)'\n') text[i] = (byte)' ';
        return text;
    }

    /// <summary>A message being received is dropped; one being committed is the driver's and stays as it is.</summary>
    private void AbortMessage()
    {
        if (_transaction.Sink is not { } sink) return;
        _transaction = new Transaction();
        sink.Abort();
    }
}
