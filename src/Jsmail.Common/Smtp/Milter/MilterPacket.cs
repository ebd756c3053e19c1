using System.Buffers.Binary;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>One milter packet: a command or reply byte and its data (the 4-byte length is the framing's).</summary>
public readonly record struct MilterPacket(byte Code, byte[] Data)
{
    /// <summary>The packet as it goes on the wire: length (code and data), code, data.</summary>
    public byte[] Encode()
    {
        var wire = new byte[5 + Data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(wire, (uint)(Data.Length + 1));
        wire[4] = Code;
        Data.CopyTo(wire, 5);
        return wire;
    }

    /// <summary>
    /// The length a frame header announces (code and data), or null when it is
    /// not a milter's: empty, or larger than any reply can be.
    /// </summary>
    public static int? FrameLength(ReadOnlySpan<byte> header)
    {
        var n = BinaryPrimitives.ReadUInt32BigEndian(header);
        return n is 0 or > MilterProtocol.MaxPacket ? null : (int)n;
    }

    /// <summary>The data as NUL-terminated strings, as replies carry them; a last one without its NUL counts too.</summary>
    public List<byte[]> Strings(int from = 0)
    {
        var list = new List<byte[]>();
        var rest = Data.AsSpan(Math.Min(from, Data.Length));
        while (!rest.IsEmpty)
        {
            var nul = rest.IndexOf((byte)0);
            if (nul < 0) { list.Add(rest.ToArray()); break; }
            list.Add(rest[..nul].ToArray());
            rest = rest[(nul + 1)..];
        }
        return list;
    }

    /// <summary>A big-endian uint32 at the start of the data (the index of i and m replies), or null when too short.</summary>
    public uint? LeadingNumber => Data.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(Data) : null;
}

/// <summary>Builds a packet's data: NUL-terminated strings, 32- and 16-bit numbers, raw bytes.</summary>
public sealed class MilterPacketBuilder(byte code)
{
    private readonly List<byte> _data = new();

    public MilterPacketBuilder String(ReadOnlySpan<byte> s)
    {
        foreach (var b in s) _data.Add(b == 0 ? (byte)' ' : b); // a NUL inside would end the string early
        _data.Add(0);
        return this;
    }

    public MilterPacketBuilder String(string s) => String(System.Text.Encoding.UTF8.GetBytes(s));

    public MilterPacketBuilder UInt32(uint n)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, n);
        _data.AddRange(b);
        return this;
    }

    public MilterPacketBuilder UInt16(ushort n)
    {
        _data.Add((byte)(n >> 8));
        _data.Add((byte)n);
        return this;
    }

    public MilterPacketBuilder Byte(byte b)
    {
        _data.Add(b);
        return this;
    }

    public MilterPacketBuilder Raw(ReadOnlySpan<byte> b)
    {
        _data.AddRange(b);
        return this;
    }

    public MilterPacket Build() => new(code, _data.ToArray());
}
