using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// BDAT (RFC 3030 CHUNKING): the message in chunks of a stated size, read
/// byte for byte with no end-of-data line to find, so nothing in a chunk can
/// end the message early. A chunk's bytes are always read, even when the
/// chunk is refused, so that what follows is read as the next command. The
/// first chunk of a message goes through the same stage as DATA (qmail-spp,
/// policy, milters and native plugins at DATA); the LAST one through the same
/// end of data (databytes, hop count, END-OF-MESSAGE, commit). A refused chunk
/// ends the transaction: RFC 3030 §2 wants every later chunk of it refused too.
/// </summary>
public sealed partial class SmtpSession
{
    private ulong _chunkLeft, _chunkSize;
    private bool _chunkLast;
    /// <summary>The chunk being read is dropped: it was refused, and has had its reply.</summary>
    private bool _chunkDiscard;
    /// <summary>The first chunk's DATA stage is running: its end without BdatAccepted is a refusal.</summary>
    private bool _bdatDeciding;

    private bool ChunkingOn => !settings.Compat && settings.Has(Standards.Chunking);

    private SessionStep Bdat(ReadOnlySpan<byte> arg)
    {
        // Without a size nobody knows where the chunk ends: what follows is read as commands.
        if (!BdatArgument.TryParse(arg, out var size, out var last)) return Reply(501, "syntax: BDAT size [LAST] (#5.5.4)");
        _chunkLeft = _chunkSize = size;
        _chunkLast = last;
        _chunkDiscard = false;
        var t = _transaction;
        if (t.Chunking) return ChunkBegin();
        if (!t.SeenMail) return RefuseChunk(SmtpReplyId.MailFirst);
        if (t.Recipients.Count == 0) return RefuseChunk(SmtpReplyId.RcptFirst);
        _bdatDeciding = true;
        return Settle(SppData((_, _) => AskPolicy(PolicyStages.Data, t, null,
            () => Filtered(Milter.MilterStage.Data, [], null,
                () => NativeHook(Plugins.Native.NativeAbi.Event.Data, null, () => BdatAccepted(t))))));
    }

    private SessionStep BdatAccepted(Transaction t)
    {
        _bdatDeciding = false;
        if (!OpenMessage(t))
        {
            _chunkDiscard = true;
            Reply(SmtpReplyId.QqtFailure);
            return ChunkBegin();
        }
        t.Chunking = true;
        t.ChunkDecoder = new SmtpChunkDecoder();
        return ChunkBegin();
    }

    /// <summary>
    /// Where the first chunk's DATA stage ends, whichever effect ends it: not
    /// accepted, it was refused (the reply is out), and its bytes are dropped.
    /// </summary>
    private SessionStep Settle(SessionStep step)
    {
        if (!_bdatDeciding || step == SessionStep.Effect) return step;
        _bdatDeciding = false;
        AbortTransaction();
        _chunkDiscard = true;
        return step == SessionStep.Command ? ChunkBegin() : step;
    }

    private SessionStep RefuseChunk(SmtpReplyId id)
    {
        AbortTransaction();
        _chunkDiscard = true;
        Reply(id);
        return ChunkBegin();
    }

    private SessionStep ChunkBegin()
    {
        if (_chunkLeft > 0) return SessionStep.Data;
        if (_chunkDiscard)
        {
            _chunkDiscard = false;
            return SessionStep.Command;
        }
        return ChunkEnd(_transaction);
    }

    /// <summary>The bytes of the chunk being read, and no more: the rest of <paramref name="input"/> is the next command's.</summary>
    private SessionStep ChunkData(ReadOnlySpan<byte> input, out int consumed)
    {
        var n = (int)Math.Min((ulong)input.Length, _chunkLeft);
        consumed = n;
        _chunkLeft -= (ulong)n;
        if (!_chunkDiscard) TakeChunk(_transaction, input[..n]);
        return _chunkLeft > 0 ? SessionStep.Data : ChunkBegin();
    }

    private void TakeChunk(Transaction t, ReadOnlySpan<byte> bytes)
    {
        var decoded = DecodeBuffer();
        while (!bytes.IsEmpty)
        {
            var piece = bytes.Length > DecodePiece ? bytes[..DecodePiece] : bytes;
            bytes = bytes[piece.Length..];
            var n = t.ChunkDecoder!.Decode(piece, decoded);
            if (!t.Binary)
            {
                Deliver(t, decoded.AsSpan(0, n));
                continue;
            }
            // BINARYMIME is queued as it came; the hop count reads its header with the line ends it has in the queue elsewhere.
            t.Hops!.Feed(decoded.AsSpan(0, n));
            Store(t, piece);
        }
    }

    private SessionStep ChunkEnd(Transaction t)
    {
        if (_chunkLast)
        {
            var decoded = DecodeBuffer();
            var n = t.ChunkDecoder!.Finish(decoded);
            if (t.Binary) t.Hops!.Feed(decoded.AsSpan(0, n));
            else Deliver(t, decoded.AsSpan(0, n));
        }
        if (!t.Binary && t.ChunkDecoder!.SawBareCr && settings.Has(Standards.RefuseBareCr))
        {
            // As DATA refuses it; here the stream is still in step, so the connection stays.
            AbortTransaction();
            return Reply(SmtpReplyId.BareCrInData);
        }
        if (t.Overflow)
        {
            AbortTransaction();
            return Reply(SmtpReplyId.TooBig);
        }
        if (!_chunkLast) return Reply(250, $"{_chunkSize} octets received", "2.0.0");
        return EndOfData(t);
    }

    /// <summary>A message started by BDAT is dropped with its transaction; nothing of it is queued.</summary>
    private void AbortTransaction()
    {
        AbortMessage();
        _transaction = new Transaction();
    }

    /// <summary>The client went away or timed out: no chunk is being read any more.</summary>
    private void ForgetChunk()
    {
        _chunkLeft = 0;
        _chunkDiscard = _bdatDeciding = false;
    }
}
