using System.Buffers.Binary;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>
/// The segment types in an ELF file's program header table (64-bit, little
/// endian: what jsmail runs on). Enough to tell a statically linked program
/// (no PT_INTERP) and a library with its own thread-local storage (PT_TLS),
/// the pair that cannot work together (docs/plugins.md).
/// </summary>
public static class ElfSegments
{
    public const uint Interpreter = 3; // PT_INTERP
    public const uint ThreadLocalStorage = 7; // PT_TLS

    /// <summary>The types of the segments of <paramref name="image"/>'s start; empty when it is not a 64-bit little-endian ELF file.</summary>
    /// <param name="image">the file's first bytes (the program headers are near its start)</param>
    public static HashSet<uint> Types(ReadOnlySpan<byte> image)
    {
        var types = new HashSet<uint>();
        if (image.Length < 64 || !image[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']) || image[4] != 2 || image[5] != 1) return types;
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(image[0x20..]);
        var size = BinaryPrimitives.ReadUInt16LittleEndian(image[0x36..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(image[0x38..]);
        for (var i = 0; i < count && size >= 4; i++)
        {
            var at = offset + (ulong)i * size;
            if (at + 4 > (ulong)image.Length) break;
            types.Add(BinaryPrimitives.ReadUInt32LittleEndian(image[(int)at..]));
        }
        return types;
    }

    /// <summary>The segment types of the file at <paramref name="path"/>, from its first 64 KiB.</summary>
    public static HashSet<uint> OfFile(string path)
    {
        using var f = File.OpenRead(path);
        var buffer = new byte[64 * 1024];
        var n = f.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return Types(buffer.AsSpan(0, n));
    }
}
