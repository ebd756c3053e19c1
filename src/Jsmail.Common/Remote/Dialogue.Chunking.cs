using System.Globalization;
using System.Runtime.InteropServices;
using Jsmail.Common.Smtp;

namespace Jsmail.Common.Remote;

/// <summary>
/// BDAT (RFC 3030 CHUNKING) instead of DATA, to a peer offering CHUNKING
/// while <see cref="RemoteFeatures.Chunking"/> is on, and always for a
/// BODY=BINARYMIME message (MailParameters has made sure the peer takes it).
/// The message, as <see cref="ChunkEncoder"/> makes it, goes in chunks of
/// <see cref="ChunkSize"/> bytes, <c>BDAT &lt;n&gt;</c> then exactly n bytes;
/// the last chunk is <c>BDAT &lt;n&gt; LAST</c> (n ≥ 1, or 0 for an empty
/// message: a full chunk is held back until more is known to follow).
/// </summary>
public sealed partial class Dialogue
{
    /// <summary>Bytes of the wire form per chunk.</summary>
    public const int ChunkSize = 65536;

    /// <summary>
    /// Chunks sent before the oldest one's reply is read, with PIPELINING
    /// (RFC 3030 lets BDAT be pipelined where RFC 2920's PIPELINING is offered): a few, so the peer's
    /// replies, a line each, never fill a buffer while we write. Without
    /// PIPELINING each chunk waits for its reply.
    /// </summary>
    private const int ChunksInFlight = 4;

    /// <summary>
    /// Sends the message in chunks; the reply that decides (the first refusal,
    /// else LAST's) and whether it was LAST's. Sending stops at the first
    /// refusal seen; the replies of chunks already sent are still read, so the
    /// session stays in step. Null when the message could not be read
    /// (reported; nothing more is sent). <paramref name="lastSent"/> turns true
    /// once LAST's bytes are out: from then on a dead connection may have
    /// delivered the message.
    /// </summary>
    private (ServerReply Reply, bool Last)? SendChunks(MessageSource message, bool binary, ref bool lastSent)
    {
        var encoder = new ChunkEncoder(binary);
        var input = GC.AllocateUninitializedArray<byte>(ChunkSize); // not zeroed: only what is read is used
        var pending = new List<byte>(2 * ChunkSize + 16); // wire bytes not yet sent
        var wire = new List<byte>(ChunkSize + 32);
        var inFlight = Uses(RemoteFeatures.Pipelining, "PIPELINING") ? ChunksInFlight : 1;
        var unanswered = 0;
        var eof = false;
        ServerReply? refusal = null;
        message.Rewind();
        while (true)
        {
            while (!eof && pending.Count <= ChunkSize)
            {
                var n = message.Read(input);
                if (n < 0) { report.Add('Z', "Unable to read message. (#4.3.0)\n"); return null; }
                if (n == 0) { eof = true; encoder.Finish(pending); }
                else encoder.Encode(input.AsSpan(0, n), pending);
            }
            var last = eof && pending.Count <= ChunkSize;
            var size = last ? pending.Count : ChunkSize;
            wire.Clear();
            wire.AddRange(System.Text.Encoding.ASCII.GetBytes(
                "BDAT " + size.ToString(CultureInfo.InvariantCulture) + (last ? " LAST\r\n" : "\r\n")));
            wire.AddRange(CollectionsMarshal.AsSpan(pending)[..size]);
            smtp.Send(CollectionsMarshal.AsSpan(wire));
            pending.RemoveRange(0, size);
            unanswered++;
            if (last) lastSent = true;

            // The oldest replies, down to what may stay in flight (none after LAST, or after a refusal).
            while (unanswered > (last || refusal != null ? 0 : inFlight - 1))
            {
                var reply = smtp.ReadReply();
                unanswered--;
                if (refusal == null && Failed(reply.Code, out _)) refusal = reply;
                if (unanswered == 0 && (last || refusal != null))
                    return refusal != null ? (refusal, last && ReferenceEquals(refusal, reply)) : (reply, true);
            }
        }
    }
}
