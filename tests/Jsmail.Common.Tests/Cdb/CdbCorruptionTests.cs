using System.Buffers.Binary;
using System.Text;
using Jsmail.Common.Cdb;

namespace Jsmail.Common.Tests.Cdb;

public class CdbCorruptionTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static void PutU32(byte[] file, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);

    /// <summary>A header whose tables are all empty, followed by <paramref name="extra"/> zero bytes.</summary>
    private static byte[] EmptyTables(int extra) => new byte[2048 + extra];

    [Fact]
    public void Every_truncation_of_a_valid_file_is_rejected_when_opened()
    {
        var records = CdbTestData.Assorted().Take(7).Where(r => r.Data.Length < 100).ToList();
        var full = CdbTestData.Build(records);

        var accepted = new List<int>();
        for (var length = 0; length < full.Length; length++)
        {
            try
            {
                using var reader = new CdbReader(full.AsMemory(0, length));
                accepted.Add(length);
            }
            catch (CdbFormatException) { }
        }

        accepted.Should().BeEmpty("no proper prefix of a cdb is a cdb");
        using var intact = new CdbReader(full);
        intact.TryFind(B("alpha"), out _).Should().BeTrue();
    }

    [Fact]
    public void Table_reaching_past_the_end_is_rejected()
    {
        var file = EmptyTables(16);
        PutU32(file, 8 * 7, 2048);
        PutU32(file, 8 * 7 + 4, 3); // 24 bytes of slots in a 16-byte tail

        FluentActions.Invoking(() => new CdbReader(file)).Should().Throw<CdbFormatException>().WithMessage("*table 7*");
    }

    [Fact]
    public void Table_inside_the_header_is_rejected()
    {
        var file = EmptyTables(0);
        PutU32(file, 0, 16);
        PutU32(file, 4, 2);

        FluentActions.Invoking(() => new CdbReader(file)).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void Slot_count_near_2_to_the_32_does_not_overflow_the_bounds_check()
    {
        var file = EmptyTables(8);
        PutU32(file, 0, 2048);
        PutU32(file, 4, uint.MaxValue);

        FluentActions.Invoking(() => new CdbReader(file)).Should().Throw<CdbFormatException>();
    }

    private const uint HashOfA = 177604;

    /// <summary>
    /// A file whose only table is 196 (key "a", first slot 693 mod slots), placed right
    /// after the header, followed by one record with key <paramref name="recordKey"/> and
    /// data "v" that claims <paramref name="dataLength"/> bytes. <paramref name="slot"/>
    /// gives each slot's (hash, record offset) from its index and the record's offset.
    /// </summary>
    private static byte[] FileWithTableForA(int slots, Func<int, uint, (uint Hash, uint Position)> slot,
        string recordKey = "a", uint dataLength = 1)
    {
        var recordAt = 2048 + 8 * slots;
        var file = new byte[recordAt + 8 + recordKey.Length + 1];
        for (var t = 0; t < 256; t++)
            PutU32(file, 8 * t, 2048);
        PutU32(file, 8 * 196 + 4, (uint)slots);
        for (var i = 0; i < slots; i++)
        {
            var (hash, position) = slot(i, (uint)recordAt);
            PutU32(file, 2048 + 8 * i, hash);
            PutU32(file, 2048 + 8 * i + 4, position);
        }
        PutU32(file, recordAt, (uint)recordKey.Length);
        PutU32(file, recordAt + 4, dataLength);
        B(recordKey + "v").CopyTo(file, recordAt + 8);
        return file;
    }

    [Fact]
    public void The_hand_built_file_is_readable_as_built()
    {
        using var reader = new CdbReader(FileWithTableForA(2, (i, record) => i == 1 ? (HashOfA, record) : (0, 0)));

        reader.TryFind(B("a"), out var data).Should().BeTrue();
        data.Should().Equal(B("v"));
    }

    [Fact]
    public void A_table_with_no_empty_slot_ends_after_one_round_of_probes()
    {
        // Every slot full, same hash as "a", each pointing at a record whose key is "b":
        // cdb_seek gives up after `slots` probes instead of wrapping forever.
        using var reader = new CdbReader(FileWithTableForA(5, (_, record) => (HashOfA, record), recordKey: "b"));

        reader.TryFind(B("a"), out _).Should().BeFalse();
        reader.FindAll(B("a")).Should().BeEmpty();
    }

    [Fact]
    public void A_full_table_whose_every_slot_matches_yields_each_slot_once()
    {
        using var reader = new CdbReader(FileWithTableForA(5, (_, record) => (HashOfA, record)));

        reader.FindAll(B("a")).Should().HaveCount(5);
    }

    [Fact]
    public void An_empty_slot_ends_the_search_even_if_a_match_follows()
    {
        // 693 mod 4 = 1: slot 1 is empty, so the match in slot 2 is never reached.
        using var reader = new CdbReader(FileWithTableForA(4, (i, record) => i == 2 ? (HashOfA, record) : (0, 0)));

        reader.TryFind(B("a"), out _).Should().BeFalse();
    }

    [Fact]
    public void Slot_pointing_past_the_end_is_rejected()
    {
        using var reader = new CdbReader(FileWithTableForA(2, (i, _) => i == 1 ? (HashOfA, 999_999u) : (0, 0)));

        reader.Invoking(r => r.TryFind(B("a"), out _)).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void Slot_pointing_into_the_header_is_rejected()
    {
        using var reader = new CdbReader(FileWithTableForA(2, (i, _) => i == 1 ? (HashOfA, 100u) : (0, 0)));

        reader.Invoking(r => r.TryFind(B("a"), out _)).Should().Throw<CdbFormatException>();
    }

    [Theory]
    [InlineData(2u)]              // one byte past the end
    [InlineData(uint.MaxValue)]   // would overflow 32-bit arithmetic
    public void Record_data_running_past_the_end_is_rejected(uint dataLength)
    {
        using var reader = new CdbReader(FileWithTableForA(2, (i, record) => i == 1 ? (HashOfA, record) : (0, 0),
            dataLength: dataLength));

        reader.Invoking(r => r.TryFind(B("a"), out _)).Should().Throw<CdbFormatException>();
        reader.Invoking(r => r.FindAll(B("a")).ToList()).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void Record_key_length_running_past_the_end_is_rejected_even_for_another_key()
    {
        // Hash matches but the record's key length is absurd: damage, not "a different key".
        var file = FileWithTableForA(2, (i, record) => i == 1 ? (HashOfA, record) : (0, 0));
        PutU32(file, 2048 + 16, 0x7FFF_FFFF);
        using var reader = new CdbReader(file);

        reader.Invoking(r => r.TryFind(B("a"), out _)).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void Random_damage_gives_answers_or_CdbFormatException_and_nothing_else()
    {
        var records = CdbTestData.Many(300, seed: 7);
        var intact = CdbTestData.Build(records);
        var keys = records.Select(r => r.Key).Append(B("absent")).Append([]).ToList();
        var random = new Random(1234);
        var outcomes = new Dictionary<string, int>();

        for (var round = 0; round < 1500; round++)
        {
            var damaged = (byte[])intact.Clone();
            // Damage where it matters most: header and tables are offsets; records are lengths.
            for (var flips = 1 + random.Next(4); flips > 0; flips--)
            {
                var at = random.Next(3) switch
                {
                    0 => random.Next(2048),
                    1 => damaged.Length - 1 - random.Next(300 * 16),
                    _ => random.Next(damaged.Length),
                };
                damaged[at] = (byte)random.Next(256);
            }
            var outcome = "answers";
            try
            {
                using var reader = new CdbReader(damaged);
                foreach (var key in keys)
                {
                    reader.TryFind(key, out _);
                    foreach (var _ in reader.FindAll(key)) { }
                }
            }
            catch (CdbFormatException)
            {
                outcome = "CdbFormatException";
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Both outcomes must occur, or the damage was not reaching the checks.
        outcomes.Keys.Should().BeEquivalentTo("answers", "CdbFormatException");
    }
}
