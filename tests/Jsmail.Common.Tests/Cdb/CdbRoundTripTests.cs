using System.Buffers.Binary;
using System.Text;
using Jsmail.Common.Cdb;

namespace Jsmail.Common.Tests.Cdb;

public class CdbRoundTripTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void Every_key_finds_its_data_and_absent_keys_are_not_found()
    {
        var records = new[] { CdbRecord.Of("one", "1"), CdbRecord.Of("two", "22"), CdbRecord.Of("three", "333") };
        using var reader = new CdbReader(CdbTestData.Build(records));

        foreach (var r in records)
        {
            reader.TryFind(r.Key, out var data).Should().BeTrue();
            data.Should().Equal(r.Data);
        }
        reader.TryFind(B("four"), out var missing).Should().BeFalse();
        missing.Should().BeEmpty();
        // Same length and prefix as a present key: the key bytes themselves must be compared.
        reader.TryFind(B("onf"), out _).Should().BeFalse();
        reader.TryFind(B("on"), out _).Should().BeFalse();
        reader.TryFind(B("one\0"), out _).Should().BeFalse();
        reader.FindAll(B("four")).Should().BeEmpty();
    }

    [Fact]
    public void Key_inserted_twice_finds_the_first_data_spec_item_52()
    {
        using var reader = new CdbReader(CdbTestData.Build([CdbRecord.Of("joe", "first"), CdbRecord.Of("joe", "second")]));

        reader.TryFind(B("joe"), out var data).Should().BeTrue();
        Encoding.Latin1.GetString(data).Should().Be("first");
    }

    [Fact]
    public void FindAll_returns_every_duplicate_in_insertion_order()
    {
        var records = CdbTestData.Assorted();
        using var reader = new CdbReader(CdbTestData.Build(records));

        reader.FindAll(B("alpha")).Select(d => Encoding.Latin1.GetString(d))
            .Should().Equal("first alpha", "second alpha", "third alpha");
        reader.FindAll([]).Select(d => Encoding.Latin1.GetString(d))
            .Should().Equal("empty key, first", "empty key, second");
        reader.TryFind([], out var first).Should().BeTrue();
        Encoding.Latin1.GetString(first).Should().Be("empty key, first");
    }

    [Fact]
    public void Assorted_records_round_trip_with_binary_keys_empty_key_and_empty_data()
    {
        var records = CdbTestData.Assorted();
        using var reader = new CdbReader(CdbTestData.Build(records));

        reader.Mismatches(records).Should().BeEmpty();
        reader.TryFind(B("beta"), out var empty).Should().BeTrue();
        empty.Should().BeEmpty();
        reader.TryFind([0x00, 0x00], out _).Should().BeFalse();
        reader.TryFind([0xFF], out _).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(CdbTestData.CollidingKeys), MemberType = typeof(CdbTestData))]
    public void Keys_with_the_same_hash_are_told_apart_by_their_bytes(string first, string second)
    {
        CdbHash.Compute(B(first)).Should().Be(CdbHash.Compute(B(second)), "the test needs a real collision");

        using (var onlyFirst = new CdbReader(CdbTestData.Build([CdbRecord.Of(first, "1")])))
            onlyFirst.TryFind(B(second), out _).Should().BeFalse();

        using var both = new CdbReader(CdbTestData.Build([CdbRecord.Of(first, "1"), CdbRecord.Of(second, "2")]));
        both.TryFind(B(first), out var data1).Should().BeTrue();
        both.TryFind(B(second), out var data2).Should().BeTrue();
        Encoding.Latin1.GetString(data1).Should().Be("1");
        Encoding.Latin1.GetString(data2).Should().Be("2");
        both.FindAll(B(second)).Should().HaveCount(1);
    }

    [Fact]
    public void Empty_database_finds_nothing_and_is_just_a_header_of_empty_tables()
    {
        var bytes = CdbTestData.Build([]);

        bytes.Should().HaveCount(2048);
        for (var t = 0; t < 256; t++)
        {
            BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8 * t)).Should().Be(2048u);
            BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8 * t + 4)).Should().Be(0u);
        }
        using var reader = new CdbReader(bytes);
        reader.TryFind([], out _).Should().BeFalse();
        reader.TryFind(B("x"), out _).Should().BeFalse();
    }

    [Fact]
    public void Hundred_thousand_keys_round_trip()
    {
        var records = CdbTestData.Many(100_000);
        var bytes = CdbTestData.Build(records);
        using var reader = new CdbReader(bytes);

        reader.Mismatches(records).Should().BeEmpty();
        reader.TryFind(B("key-100000"), out _).Should().BeFalse();
    }

    /// <summary>
    /// The layout worked out by hand from docs §11. Every single-byte key has
    /// h >> 8 = 693 (5381 * 33 = 0x2B5A5); "a" = 0x2B5C4 goes to table 0xC4 = 196,
    /// "b" = 0x2B5C7 to table 199, "" = 5381 = 0x1505 to table 5 with h >> 8 = 21.
    /// </summary>
    [Fact]
    public void Small_file_is_byte_exact()
    {
        var records = new[]
        {
            CdbRecord.Of("a", "1"), CdbRecord.Of("b", "xy"), CdbRecord.Of("a", "2"),
            CdbRecord.Of("a", "3"), CdbRecord.Of("", ""), CdbRecord.Of("a", "4"),
        };

        var expected = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); expected.AddRange(b); }
        void Table(uint position, uint slots) { U32(position); U32(slots); }
        void Record(string key, string data) { U32((uint)key.Length); U32((uint)data.Length); expected.AddRange(B(key + data)); }

        // Records: "a1" at 2048 (10 bytes), "bxy" at 2058 (11), "a2" at 2069, "a3" at 2079,
        // "" at 2089 (8), "a4" at 2097; they end at 2107, where the tables begin.
        // Table 5: 1 entry, 2 slots at 2107..2123. Table 196: 4 entries, 8 slots at 2123..2187.
        // Table 199: 1 entry, 2 slots at 2187..2203. An empty table points where the next would start.
        for (var t = 0; t < 256; t++)
        {
            if (t < 5) Table(2107, 0);
            else if (t == 5) Table(2107, 2);
            else if (t < 196) Table(2123, 0);
            else if (t == 196) Table(2123, 8);
            else if (t < 199) Table(2187, 0);
            else if (t == 199) Table(2187, 2);
            else Table(2203, 0);
        }
        Record("a", "1"); Record("b", "xy"); Record("a", "2"); Record("a", "3"); Record("", ""); Record("a", "4");
        // Table 5: 21 mod 2 = 1.
        U32(0); U32(0); U32(5381); U32(2089);
        // Table 196: 693 mod 8 = 5, so the four "a" take slots 5, 6, 7 and, wrapping, 0.
        U32(177604); U32(2097);
        for (var i = 1; i <= 4; i++) { U32(0); U32(0); }
        U32(177604); U32(2048); U32(177604); U32(2069); U32(177604); U32(2079);
        // Table 199: 693 mod 2 = 1.
        U32(0); U32(0); U32(177607); U32(2058);

        var bytes = CdbTestData.Build(records);
        bytes.Should().Equal(expected);

        using var reader = new CdbReader(bytes);
        reader.FindAll(B("a")).Select(d => Encoding.Latin1.GetString(d)).Should().Equal("1", "2", "3", "4");
    }

    [Fact]
    public void Writer_refuses_use_after_finish_and_counts_records()
    {
        using var output = new MemoryStream();
        using var writer = new CdbWriter(output, leaveOpen: true);
        writer.Add(B("k"), B("v"));
        writer.Add(B("k"), B("w"));
        writer.Count.Should().Be(2);
        writer.Finish();

        writer.Invoking(w => w.Add(B("x"), B("y"))).Should().Throw<InvalidOperationException>();
        writer.Invoking(w => w.Finish()).Should().Throw<InvalidOperationException>();
        output.Length.Should().Be(2048 + 2 * 10 + 2 * 2 * 8);
    }

    [Fact]
    public void Writer_needs_a_seekable_writable_stream()
    {
        FluentActions.Invoking(() => new CdbWriter(new MemoryStream([], writable: false)))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new CdbWriter(new DiscardingStream(canSeek: false)))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Offsets_count_from_where_the_stream_stood()
    {
        var records = CdbTestData.Assorted();
        using var output = new MemoryStream();
        output.Write("prefix"u8);
        using (var writer = new CdbWriter(output, leaveOpen: true))
        {
            foreach (var r in records) writer.Add(r.Key, r.Data);
            writer.Finish();
        }

        output.ToArray().AsSpan(6).ToArray().Hex().Should().Be(CdbTestData.Build(records).Hex());
    }

    [Fact]
    public void A_failed_output_write_marks_the_writer_failed_and_stops_it()
    {
        using var output = new DiscardingStream(failAfterBytes: 3000);
        using var writer = new CdbWriter(output);
        writer.Add(B("small"), B("fits"));
        writer.Failed.Should().BeFalse();

        writer.Invoking(w => w.Add(B("big"), new byte[2000])).Should().Throw<IOException>();
        writer.Failed.Should().BeTrue();
        writer.Invoking(w => w.Add(B("x"), B("y"))).Should().Throw<InvalidOperationException>();
        writer.Invoking(w => w.Finish()).Should().Throw<InvalidOperationException>();
    }

    /// <summary>
    /// The data spans are address space only (never touched: the stream discards
    /// writes), so the real 4 GiB boundary is tested without writing 4 GiB.
    /// </summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public unsafe void Writer_allows_exactly_a_4_GiB_minus_1_file(int extraBytes, bool fits)
    {
        // Two records with empty keys: 2048 header + 2 * 8 record headers + 2 * 16 slot bytes.
        const long overhead = 2048 + 2 * 8 + 2 * 16;
        var dataTotal = uint.MaxValue - overhead + extraBytes;
        var firstLength = int.MaxValue;
        var secondLength = (int)(dataTotal - firstLength);
        var memory = System.Runtime.InteropServices.NativeMemory.Alloc((nuint)firstLength);
        try
        {
            using var output = new DiscardingStream();
            using var writer = new CdbWriter(output);
            writer.Add([], new ReadOnlySpan<byte>(memory, firstLength));
            var second = () => writer.Add([], new ReadOnlySpan<byte>(memory, secondLength));
            if (fits)
            {
                second();
                writer.Finish();
                output.Length.Should().Be(uint.MaxValue);
            }
            else
            {
                second.Should().Throw<IOException>().WithMessage("*4294967296*");
                writer.Failed.Should().BeTrue();
                output.Length.Should().Be(2048 + 8 + (long)firstLength, "the refused record was not written");
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(memory);
        }
    }

    [Fact]
    public void Reader_rejects_use_after_dispose()
    {
        var reader = new CdbReader(CdbTestData.Build([CdbRecord.Of("k", "v")]));
        reader.Dispose();

        reader.Invoking(r => r.TryFind(B("k"), out _)).Should().Throw<ObjectDisposedException>();
    }
}

/// <summary>A seekable stream that keeps only its length, optionally failing past a size.</summary>
internal sealed class DiscardingStream(bool canSeek = true, long failAfterBytes = long.MaxValue) : Stream
{
    private long _length;
    private long _position;

    public override bool CanRead => false;
    public override bool CanSeek => canSeek;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _position; set => _position = value; }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void SetLength(long value) => _length = value;

    public override long Seek(long offset, SeekOrigin origin) =>
        _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_position + buffer.Length > failAfterBytes)
            throw new IOException("No space left on device");
        _position += buffer.Length;
        _length = Math.Max(_length, _position);
    }
}
