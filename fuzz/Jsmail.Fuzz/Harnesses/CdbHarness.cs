using System.Buffers.Binary;
using Jsmail.Common.Cdb;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// Byte 0 even: the rest is a hostile cdb file; every lookup either answers or
/// throws <see cref="CdbFormatException"/>, and never reads out of range.
/// Byte 0 odd: the rest is "key=value" lines, written with CdbWriter and read
/// back: every key yields its values in the order added.
/// </summary>
public static class CdbHarness
{
    public static void Run(byte[] data)
    {
        if (data.Length == 0) return;
        if (data[0] % 2 == 0) Hostile(data.AsMemory(1));
        else RoundTrip(data.AsSpan(1));
    }

    private static void Hostile(ReadOnlyMemory<byte> file)
    {
        try
        {
            using var reader = new CdbReader(file);
            foreach (var key in KeysOf(file.Span))
            {
                var found = reader.TryFind(key, out var first);
                var all = reader.FindAll(key).Take(64).ToList();
                That(found == all.Count > 0, "TryFind and FindAll agree");
                if (found) Same(first, all[0], "TryFind gives FindAll's first");
                foreach (var d in all) That(d.Length <= file.Length, "data comes from the file");
            }
        }
        catch (CdbFormatException)
        {
            // documented: a damaged file
        }
    }

    /// <summary>The empty key and the keys of the records as the file lays them out from offset 2048.</summary>
    private static IEnumerable<byte[]> KeysOf(ReadOnlySpan<byte> file)
    {
        var keys = new List<byte[]> { Array.Empty<byte>() };
        var pos = 2048; // past the header of 256 table entries
        while (pos + 8 <= file.Length && keys.Count < 32)
        {
            var klen = BinaryPrimitives.ReadUInt32LittleEndian(file[pos..]);
            var dlen = BinaryPrimitives.ReadUInt32LittleEndian(file[(pos + 4)..]);
            if (klen > file.Length - pos - 8) break;
            keys.Add(file.Slice(pos + 8, (int)klen).ToArray());
            if (dlen > file.Length - pos - 8 - klen) break;
            pos += 8 + (int)klen + (int)dlen;
        }
        return keys;
    }

    private static void RoundTrip(ReadOnlySpan<byte> text)
    {
        var records = new List<(byte[] Key, byte[] Data)>();
        foreach (var line in Lines(text))
        {
            var eq = Array.IndexOf(line, (byte)'=');
            records.Add(eq < 0 ? (line, []) : (line[..eq], line[(eq + 1)..]));
        }
        using var file = new MemoryStream();
        using (var writer = new CdbWriter(file, leaveOpen: true))
        {
            foreach (var (key, value) in records) writer.Add(key, value);
            writer.Finish();
        }
        using var reader = new CdbReader(file.ToArray());
        foreach (var group in records.GroupBy(r => Convert.ToHexString(r.Key)))
        {
            var key = group.First().Key;
            var expected = group.Select(r => r.Data).ToList();
            var all = reader.FindAll(key).ToList();
            That(all.Count == expected.Count, "every record of a key is found");
            for (var i = 0; i < all.Count; i++) Same(all[i], expected[i], "records come back in the order added");
            That(reader.TryFind(key, out var first) && first.AsSpan().SequenceEqual(expected[0]), "TryFind gives the first record");
        }
        if (!records.Any(r => r.Key.AsSpan().SequenceEqual("\u0001absent"u8)))
            That(!reader.TryFind("\u0001absent"u8, out _), "a key never added is not found");
    }
}
