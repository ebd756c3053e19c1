using System.Buffers.Binary;
using Jsmail.Common.Smtp.Milter;
using static Jsmail.Fuzz.Invariant;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// A hostile milter's reply stream: frames (length, code, data) read as
/// MilterConnection frames them, each reply's decision, and the end-of-message
/// edits applied to a message. Byte 0 is the negotiated actions' low byte; the
/// message the edits apply to is the input's own bytes, parsed as a message.
/// </summary>
public static class MilterHarness
{
    public static void Run(byte[] data)
    {
        if (data.Length == 0) return;
        var allowed = (P.Actions)data[0] & P.Actions.All;
        var stream = data.AsSpan(1);

        var message = MilterMessage.Parse(stream);
        var serialized = message.Serialize();
        Same(MilterMessage.Parse(serialized).Serialize(), serialized, "a parsed message serializes stably");
        foreach (var f in message.Fields) _ = MilterMessage.ValueOf(f, leadingSpace: data[0] % 3 == 0);
        MilterMacros.ParseList(stream);

        var edits = new List<MilterPacket>();
        while (stream.Length >= 4)
        {
            if (MilterPacket.FrameLength(stream) is not { } length) return; // documented: not a milter's frame
            That(length is >= 1 and <= P.MaxPacket, "a frame length is within bounds");
            stream = stream[4..];
            if (stream.Length < length) return; // the filter hung up mid-packet
            var packet = new MilterPacket(stream[0], stream[1..length].ToArray());
            stream = stream[length..];
            Same(packet.Encode().AsSpan(4), [packet.Code, .. packet.Data], "a packet re-encodes to its frame");
            That(BinaryPrimitives.ReadUInt32BigEndian(packet.Encode()) == (uint)length, "the frame length round-trips");
            foreach (var s in packet.Strings()) That(Array.IndexOf(s, (byte)0) < 0, "strings hold no NUL");
            MilterOutcome? outcome;
            try { outcome = MilterReplies.Decision(packet, out _); }
            catch (MilterProtocolException) { return; } // documented: a reply no filter sends
            if (outcome == null) { edits.Add(packet); continue; }
            Edits(edits, allowed, data[0]);
            edits.Clear();
        }
        Edits(edits, allowed, data[0]);
    }

    private static void Edits(List<MilterPacket> edits, P.Actions allowed, byte seed)
    {
        if (edits.Count == 0) return;
        var t = new MilterTransaction(MilterMessage.Parse("Subject: x\nFrom: a@b\n\nbody\n"u8), "s@x"u8.ToArray(), ["r@y"u8.ToArray()]);
        try { MilterReplies.Apply(edits, t, allowed, leadingSpace: seed % 3 == 0); }
        catch (MilterProtocolException) { return; } // documented: an edit not negotiated or malformed
        var serialized = t.Message.Serialize();
        Same(MilterMessage.Parse(serialized).Serialize(), serialized, "an edited message serializes stably");
    }
}
