using System.Buffers;
using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Tests.Envelope;

public class EnvelopeParserTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    public static TheoryData<string, EnvelopeStatus, string, int> Cases => new()
    {
        // input, status, bytes copied to intd, recipients
        { "Fa@x\0Tb@y\0\0", EnvelopeStatus.Complete, "Fa@x\0Tb@y\0", 1 },
        { "F\0\0", EnvelopeStatus.Complete, "F\0", 0 },
        { "Fa@x\0\0", EnvelopeStatus.Complete, "Fa@x\0", 0 },
        { "Fa\0Tb\0Tc\0Td\0\0", EnvelopeStatus.Complete, "Fa\0Tb\0Tc\0Td\0", 3 },
        { "F\0T\0\0", EnvelopeStatus.Complete, "F\0T\0", 1 },
        { "Fa b\x01\xff\0T\"q\"@[1.2.3.4]\0\0", EnvelopeStatus.Complete, "Fa b\x01\xff\0T\"q\"@[1.2.3.4]\0", 1 },
        { "Xa\0\0", EnvelopeStatus.BadFormat, "", 0 },
        { "\0", EnvelopeStatus.BadFormat, "", 0 },
        { "Ta@x\0\0", EnvelopeStatus.BadFormat, "", 0 },
        { "Fa\0Xb\0\0", EnvelopeStatus.BadFormat, "Fa\0", 0 },
        { "Fa\0Tb\0Fc\0\0", EnvelopeStatus.BadFormat, "Fa\0Tb\0", 1 },
        { "Fa@x", EnvelopeStatus.Reading, "Fa@x", 0 },
        { "Fa@x\0Tb", EnvelopeStatus.Reading, "Fa@x\0Tb", 1 },
        { "Fa@x\0Tb\0", EnvelopeStatus.Reading, "Fa@x\0Tb\0", 1 },
        { "", EnvelopeStatus.Reading, "", 0 },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Parses_in_one_chunk(string input, EnvelopeStatus status, string copied, int recipients)
    {
        var (s, o, r, _) = Parse(B(input), chunk: int.MaxValue);
        s.Should().Be(status);
        Encoding.Latin1.GetString(o).Should().Be(copied);
        r.Should().Be(recipients);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Parses_byte_by_byte_the_same(string input, EnvelopeStatus status, string copied, int recipients)
    {
        var (s, o, r, _) = Parse(B(input), chunk: 1);
        s.Should().Be(status);
        Encoding.Latin1.GetString(o).Should().Be(copied);
        r.Should().Be(recipients);
    }

    [Fact]
    public void Stops_right_after_the_final_nul_leaving_the_rest()
    {
        var input = B("Fa\0Tb\0\0X1\0\0garbage");
        var (s, _, _, consumed) = Parse(input, int.MaxValue);
        s.Should().Be(EnvelopeStatus.Complete);
        consumed.Should().Be(7);
    }

    [Theory]
    [InlineData(1002, EnvelopeStatus.Complete)]
    [InlineData(1003, EnvelopeStatus.AddressTooLong)]
    [InlineData(5000, EnvelopeStatus.AddressTooLong)]
    public void Address_limit_is_1002_bytes(int length, EnvelopeStatus status)
    {
        var addr = new string('a', length);
        foreach (var env in new[] { $"F{addr}\0\0", $"Fs\0T{addr}\0\0" })
            foreach (var chunk in new[] { 1, 7, 1000, int.MaxValue })
                Parse(B(env), chunk).Status.Should().Be(status, $"chunk {chunk}");
    }

    [Fact]
    public void Too_long_is_found_at_the_1003rd_byte_without_waiting_for_the_nul()
    {
        var (s, _, _, consumed) = Parse(B("F" + new string('a', 1003)), int.MaxValue);
        s.Should().Be(EnvelopeStatus.AddressTooLong);
        consumed.Should().Be(1 + 1003);
    }

    private static (EnvelopeStatus Status, byte[] Output, int Recipients, int Consumed) Parse(byte[] input, int chunk)
    {
        var parser = new EnvelopeParser();
        var output = new ArrayBufferWriter<byte>();
        var pos = 0;
        while (pos < input.Length && parser.Status == EnvelopeStatus.Reading)
        {
            var n = Math.Min(chunk, input.Length - pos);
            pos += parser.Feed(input.AsSpan(pos, n), output);
        }
        return (parser.Status, output.WrittenSpan.ToArray(), parser.RecipientCount, pos);
    }
}
