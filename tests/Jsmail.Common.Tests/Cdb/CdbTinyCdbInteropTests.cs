using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.TestSupport;

namespace Jsmail.Common.Tests.Cdb;

/// <summary>
/// Both directions against tinycdb's cdb(1), an independent implementation of the
/// format: files we write are queried and dumped by it, files it builds are read by us.
/// </summary>
public class CdbTinyCdbInteropTests
{
    private const string CdbTool = "/usr/bin/cdb";

    private static readonly Lazy<List<CdbRecord>> HundredThousand = new(() => CdbTestData.Many(100_000));

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static void RequireTool() =>
        File.Exists(CdbTool).Should().BeTrue($"{CdbTool} comes from Debian's tinycdb package: apt-get install -y tinycdb");

    private static void WriteOurs(string path, IEnumerable<CdbRecord> records) =>
        CdbWriter.WriteAtomically(path, path + ".tmp", w =>
        {
            foreach (var r in records)
                w.Add(r.Key, r.Data);
        });

    private static string BuildWithTinyCdb(TempDir dir, string name, IEnumerable<CdbRecord> records)
    {
        RequireTool();
        var path = dir[name];
        var result = Run.Process(CdbTool, ["-c", path], stdin: CdbTestData.CdbmakeText(records));
        result.ExitCode.Should().Be(0, result.Err);
        return path;
    }

    /// <summary>bash's printf rebuilds the key from \xHH escapes, so any key without NUL fits in argv.</summary>
    private static string PrintfEscaped(byte[] key) => string.Concat(key.Select(b => $"\\x{b:x2}"));

    private static RunResult Query(string path, byte[] key, params string[] options)
    {
        RequireTool();
        key.Should().NotContain(0, "argv cannot carry NUL");
        return Run.Shell($"exec {CdbTool} -q {string.Join(' ', options)} \"$1\" \"$(printf \"$2\")\"",
            args: [path, PrintfEscaped(key)]);
    }

    [Fact]
    public void Tinycdb_queries_our_file()
    {
        using var dir = new TempDir();
        var records = CdbTestData.Assorted().Append(new CdbRecord([0xFF, (byte)'x', 0x80], B("high bytes"))).ToList();
        WriteOurs(dir["ours.cdb"], records);

        foreach (var (keyHex, datas) in CdbTestData.ByKey(records))
        {
            var key = Convert.FromHexString(keyHex);
            if (key.Contains((byte)0) || key.Length > 1000)
                continue; // not expressible in argv; the dump test covers these
            var first = Query(dir["ours.cdb"], key, "-n", "1");
            first.ExitCode.Should().Be(0, $"key {keyHex} is present: {first.Err}");
            first.Stdout.Hex().Should().Be(datas[0].Hex());
            // Without -n, tinycdb prints every record for the key, back to back, in the order it finds them.
            Query(dir["ours.cdb"], key).Stdout.Hex().Should().Be(datas.SelectMany(d => d).ToArray().Hex());
        }
        Query(dir["ours.cdb"], B("alpha"), "-n", "3").Stdout.Should().Equal(B("third alpha"));
        Query(dir["ours.cdb"], B("")).Stdout.Should().Equal(B("empty key, firstempty key, second"));
        Query(dir["ours.cdb"], B("absent")).ExitCode.Should().Be(100);
        Query(dir["ours.cdb"], B("alph")).ExitCode.Should().Be(100);
    }

    [Fact]
    public void Tinycdb_dumps_our_file_record_for_record()
    {
        using var dir = new TempDir();
        var records = CdbTestData.Assorted();
        WriteOurs(dir["ours.cdb"], records);
        RequireTool();

        var dump = Run.Process(CdbTool, ["-d", dir["ours.cdb"]]);

        dump.ExitCode.Should().Be(0, dump.Err);
        dump.Stdout.Hex().Should().Be(CdbTestData.CdbmakeText(records).Hex());
    }

    [Fact]
    public void We_read_tinycdbs_file()
    {
        using var dir = new TempDir();
        var records = CdbTestData.Assorted();
        using var reader = new CdbReader(BuildWithTinyCdb(dir, "tiny.cdb", records));

        reader.Mismatches(records).Should().BeEmpty();
        reader.TryFind(B("absent"), out _).Should().BeFalse();
        reader.FindAll(B("alpha")).Select(d => Encoding.Latin1.GetString(d))
            .Should().Equal("first alpha", "second alpha", "third alpha");
    }

    [Fact]
    public void Hundred_thousand_keys_tinycdb_reads_ours()
    {
        using var dir = new TempDir();
        var records = HundredThousand.Value;
        WriteOurs(dir["ours.cdb"], records);
        RequireTool();

        var dump = Run.Process(CdbTool, ["-d", dir["ours.cdb"]]);
        dump.ExitCode.Should().Be(0, dump.Err);
        dump.Stdout.AsSpan().SequenceEqual(CdbTestData.CdbmakeText(records)).Should().BeTrue("the dump lists our records in order");

        // A sample through tinycdb's hash lookup, two processes per key (first and second
        // record; a process costs ~10 ms here): text keys, binary duplicated keys (every
        // 10th key is binary, every 997th was added twice), text duplicated keys and absent
        // keys. The byte-identity test covers every slot of this same input.
        var byKey = CdbTestData.ByKey(records);
        var sample = records.Take(100_000)
            .Where((_, i) => i % 10_000 == 1 || i % (997 * 10) == 0 || i % (997 * 10) == 997).Select(r => r.Key)
            .Where(k => !k.Contains((byte)0) && k[^1] != (byte)'\n')
            .Append(B("key-100000")).Append(B("absent")).Distinct(new KeyComparer()).ToList();
        sample.Should().HaveCountGreaterThan(25);
        var expected = new MemoryStream();
        foreach (var key in sample)
        {
            var datas = byKey.GetValueOrDefault(Convert.ToHexString(key)) ?? [];
            if (datas.Count > 0) expected.Write(datas[0]);
            expected.Write(B(datas.Count > 0 ? " rc=0 " : " rc=100 "));
            if (datas.Count > 1) expected.Write(datas[1]);
            expected.Write(B(datas.Count > 1 ? " rc=0\n" : " rc=100\n"));
        }
        var loop = Run.Shell(
            $"while IFS= read -r k; do printf -v k \"$k\"; " +
            $"{CdbTool} -q -n 1 \"$1\" \"$k\"; echo -n \" rc=$? \"; {CdbTool} -q -n 2 \"$1\" \"$k\"; echo \" rc=$?\"; done",
            stdin: B(string.Concat(sample.Select(k => PrintfEscaped(k) + "\n"))),
            args: [dir["ours.cdb"]]);

        loop.Stderr.Should().BeEmpty();
        loop.Stdout.Hex().Should().Be(expected.ToArray().Hex());
    }

    [Fact]
    public void Hundred_thousand_keys_we_read_tinycdbs()
    {
        using var dir = new TempDir();
        var records = HundredThousand.Value;
        using var reader = new CdbReader(BuildWithTinyCdb(dir, "tiny.cdb", records));

        // Positioned reads cost ~4 µs each here: FindAll on every tenth unique key keeps this quick.
        reader.Mismatches(records, findAllEvery: 10).Should().BeEmpty();
        reader.TryFind(B("key-100000"), out _).Should().BeFalse();
    }

    /// <summary>
    /// tinycdb's cdb -c (default mode, duplicates added) places records and slots exactly
    /// as cdbmake does, so for the same records in the same order the files are
    /// identical, header and empty tables' offsets included.
    /// </summary>
    [Fact]
    public void Tinycdb_builds_byte_identical_files()
    {
        using var dir = new TempDir();
        var inputs = new Dictionary<string, List<CdbRecord>>
        {
            ["empty"] = [],
            ["one empty record"] = [CdbRecord.Of("", "")],
            ["hand-computed"] =
            [
                CdbRecord.Of("a", "1"), CdbRecord.Of("b", "xy"), CdbRecord.Of("a", "2"),
                CdbRecord.Of("a", "3"), CdbRecord.Of("", ""), CdbRecord.Of("a", "4"),
            ],
            ["assorted"] = CdbTestData.Assorted(),
            ["100000"] = HundredThousand.Value,
        };

        foreach (var (name, records) in inputs)
        {
            var tiny = File.ReadAllBytes(BuildWithTinyCdb(dir, name + ".tiny", records));
            var ours = CdbTestData.Build(records);
            ours.AsSpan().SequenceEqual(tiny).Should().BeTrue($"input '{name}' ({ours.Length} bytes ours, {tiny.Length} tinycdb)");
        }
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] key) => (int)CdbHash.Compute(key);
    }
}
