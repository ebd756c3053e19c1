using Jsmail.Common.Envelope;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// One mail transaction, MAIL to the final dot: replaced whole by a new one
/// (HELO, RSET, MAIL, STARTTLS, the end of DATA), never reset field by field.
/// </summary>
internal sealed class Transaction
{
    /// <summary>MAIL was accepted and DATA has not started.</summary>
    public bool SeenMail;
    public bool SenderBarred;
    public byte[] Sender = [];
    public bool SenderUtf8;
    /// <summary>BODY=BINARYMIME: only BDAT may carry the message, and its bytes are queued as they came.</summary>
    public bool Binary;
    public readonly List<byte[]> Recipients = new();
    public readonly EnvelopeExtension Extension = new();
    /// <summary>What filters asked to change about the message (headers, DISCARD).</summary>
    public readonly Hooks.MessageEdits Edits = new();

    // Between DATA's 354 and the final dot.
    public IMessageSink? Sink;
    public SmtpDataDecoder? Decoder;
    public SmtpHopCounter? Hops;
    public ulong DataBytes;
    public bool Overflow;

    /// <summary>The message comes in BDAT chunks (RFC 3030): its sink lives from the first chunk to the LAST one.</summary>
    public bool Chunking;
    /// <summary>Line ends of a chunked message that is not BINARYMIME.</summary>
    public SmtpChunkDecoder? ChunkDecoder;

    public QueueEnvelope Envelope() => new(Sender, Recipients, Extension.IsEmpty ? null : Extension);
}
