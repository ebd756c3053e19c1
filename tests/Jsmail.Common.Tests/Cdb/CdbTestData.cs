using System.Text;
using Jsmail.Common.Cdb;

namespace Jsmail.Common.Tests.Cdb;

internal sealed record CdbRecord(byte[] Key, byte[] Data)
{
    public static CdbRecord Of(string key, string data) => new(Encoding.Latin1.GetBytes(key), Encoding.Latin1.GetBytes(data));
}

internal static class CdbTestData
{
    public static byte[] Build(IEnumerable<CdbRecord> records)
    {
        using var output = new MemoryStream();
        using (var writer = new CdbWriter(output, leaveOpen: true))
        {
            foreach (var r in records)
                writer.Add(r.Key, r.Data);
            writer.Finish();
        }
        return output.ToArray();
    }

    /// <summary>tinycdb's native input (= cdbmake's): "+klen,dlen:key->data\n" per record, then an empty line.</summary>
    public static byte[] CdbmakeText(IEnumerable<CdbRecord> records)
    {
        var text = new MemoryStream();
        foreach (var r in records)
        {
            text.Write(Encoding.ASCII.GetBytes($"+{r.Key.Length},{r.Data.Length}:"));
            text.Write(r.Key);
            text.Write("->"u8);
            text.Write(r.Data);
            text.WriteByte((byte)'\n');
        }
        text.WriteByte((byte)'\n');
        return text.ToArray();
    }

    /// <summary>
    /// Records of every awkward kind: text, binary with NUL and 0xFF, empty key, empty
    /// data, a long key, and keys repeated later with other data.
    /// </summary>
    public static List<CdbRecord> Assorted() =>
    [
        CdbRecord.Of("alpha", "first alpha"),
        CdbRecord.Of("", "empty key, first"),
        CdbRecord.Of("beta", ""),
        new([0x00], [0xFF, 0x00, 0xFF]),
        new([0xFF, 0x00, 0x0A, 0xFF], [0x00]),
        CdbRecord.Of("alpha", "second alpha"),
        CdbRecord.Of("line\nbreak->+1,2:", "data\nwith -> newline"),
        new(Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray(), Enumerable.Repeat((byte)0xAB, 70_000).ToArray()),
        CdbRecord.Of("", "empty key, second"),
        CdbRecord.Of("alpha", "third alpha"),
        CdbRecord.Of("!joe\0", "joe\0507\0100\0/home/joe\0\0"),
    ];

    /// <summary>
    /// n records with distinct keys, seeded so every run is the same; every 997th key
    /// is added once more at the end with other data, so duplicates are far apart.
    /// </summary>
    public static List<CdbRecord> Many(int n, int seed = 52)
    {
        var random = new Random(seed);
        var records = new List<CdbRecord>(n + n / 997 + 1);
        for (var i = 0; i < n; i++)
        {
            var key = i % 10 == 0 ? RandomBytes(random, 1 + random.Next(20), i) : Encoding.ASCII.GetBytes($"key-{i}");
            records.Add(new CdbRecord(key, RandomBytes(random, random.Next(40), -1)));
        }
        for (var i = 0; i < n; i += 997)
            records.Add(new CdbRecord(records[i].Key, Encoding.ASCII.GetBytes($"again-{i}")));
        return records;
    }

    /// <summary>Distinct keys: random bytes after the index, which alone is unique.</summary>
    private static byte[] RandomBytes(Random random, int length, int uniqueIndex)
    {
        var prefix = uniqueIndex < 0 ? [] : Encoding.ASCII.GetBytes($"{uniqueIndex}:");
        var bytes = new byte[prefix.Length + length];
        prefix.CopyTo(bytes, 0);
        random.NextBytes(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    /// <summary>
    /// Pairs of different keys with the same hash (see CdbHashTests): only comparing the
    /// key bytes tells them apart. The long pair differs only after byte 600, past the
    /// first piece a reader compares.
    /// </summary>
    public static TheoryData<string, string> CollidingKeys => new()
    {
        { "aaB", "aba" },
        { "\0a", "\u0001\0" },
        { new string('x', 600) + "  a", new string('x', 600) + " !@" },
    };

    /// <summary>The data of each key's records, in insertion order.</summary>
    public static Dictionary<string, List<byte[]>> ByKey(IEnumerable<CdbRecord> records)
    {
        var byKey = new Dictionary<string, List<byte[]>>();
        foreach (var r in records)
        {
            var k = Convert.ToHexString(r.Key);
            if (!byKey.TryGetValue(k, out var list))
                byKey[k] = list = [];
            list.Add(r.Data);
        }
        return byKey;
    }
}

/// <summary>
/// Byte arrays compared as hex strings: FluentAssertions compares collections element by
/// element, far too slowly for the 70 KB records here, and hex shows where they differ.
/// </summary>
internal static class HexExtensions
{
    public static string Hex(this byte[] bytes) => Convert.ToHexString(bytes);

    public static List<string> Hex(this IEnumerable<byte[]> items) => items.Select(Convert.ToHexString).ToList();
}

internal static class CdbReaderChecks
{
    /// <summary>
    /// Looks every key of <paramref name="records"/> up and describes each answer that
    /// differs from what was added: TryFind must give the first data, FindAll all of them
    /// in order. One assertion on the result keeps 100,000 lookups fast. FindAll is
    /// asked for every duplicated key and every <paramref name="findAllEvery"/>th other key.
    /// </summary>
    public static List<string> Mismatches(this CdbReader reader, IEnumerable<CdbRecord> records, int findAllEvery = 1)
    {
        var mismatches = new List<string>();
        var index = 0;
        foreach (var (keyHex, datas) in CdbTestData.ByKey(records))
        {
            var key = Convert.FromHexString(keyHex);
            if (!reader.TryFind(key, out var data))
                mismatches.Add($"key {keyHex}: not found");
            else if (!data.AsSpan().SequenceEqual(datas[0]))
                mismatches.Add($"key {keyHex}: found {Convert.ToHexString(data)}, expected {Convert.ToHexString(datas[0])}");
            if (datas.Count == 1 && index++ % findAllEvery != 0)
                continue;
            var all = reader.FindAll(key).ToList();
            if (all.Count != datas.Count || all.Zip(datas).Any(pair => !pair.First.AsSpan().SequenceEqual(pair.Second)))
                mismatches.Add($"key {keyHex}: FindAll gave {all.Count} records, not the {datas.Count} added");
        }
        return mismatches;
    }
}
