namespace Jsmail.Common.Envelope;

/// <summary>A whole envelope as callers of the queue build it: sender, recipients, optional extension.</summary>
public sealed record QueueEnvelope(byte[] Sender, IReadOnlyList<byte[]> Recipients, EnvelopeExtension? Extension = null)
{
    /// <summary>
    /// The bytes a queue program reads on fd 1: the qmail envelope, then the
    /// extension block when there is one (a real qmail-queue stops at the final
    /// NUL and never sees it). Addresses must not hold NUL.
    /// </summary>
    public byte[] Encode()
    {
        var ext = Extension is { IsEmpty: false } e ? EnvelopeExtensionCodec.Encode(e) : [];
        var size = 2 + Sender.Length + Recipients.Sum(r => r.Length + 2) + 1 + ext.Length;
        var o = new byte[size];
        var pos = 0;
        Record((byte)'F', Sender);
        foreach (var r in Recipients) Record((byte)'T', r);
        o[pos++] = 0;
        ext.CopyTo(o, pos);
        return o;

        void Record(byte type, byte[] address)
        {
            if (address.AsSpan().IndexOf((byte)0) >= 0) throw new ArgumentException("NUL in an envelope address");
            o[pos++] = type;
            address.CopyTo(o, pos);
            pos += address.Length;
            o[pos++] = 0;
        }
    }

    /// <summary>Parses a complete envelope with an optional extension block (tests, scanners, tools).</summary>
    public static QueueEnvelope Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data[0] != (byte)'F') throw new FormatException("envelope must start with F");
        var recipients = new List<byte[]>();
        var pos = 1;
        var nul = data[pos..].IndexOf((byte)0);
        if (nul < 0) throw new FormatException("unterminated sender");
        var sender = data.Slice(pos, nul).ToArray();
        pos += nul + 1;
        while (true)
        {
            if (pos >= data.Length) throw new FormatException("envelope ends before its final NUL");
            if (data[pos] == 0) { pos++; break; }
            if (data[pos] != (byte)'T') throw new FormatException("record is neither T nor the final NUL");
            nul = data[(pos + 1)..].IndexOf((byte)0);
            if (nul < 0) throw new FormatException("unterminated recipient");
            recipients.Add(data.Slice(pos + 1, nul).ToArray());
            pos += nul + 2;
        }
        EnvelopeExtension? ext = null;
        if (pos < data.Length && data[pos] == (byte)'X')
            ext = EnvelopeExtensionCodec.Decode(data[pos..], recipients.Count);
        return new QueueEnvelope(sender, recipients, ext);
    }
}
