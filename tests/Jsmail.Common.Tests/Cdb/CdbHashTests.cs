using System.Text;
using Jsmail.Common.Cdb;

namespace Jsmail.Common.Tests.Cdb;

public class CdbHashTests
{
    // Expected values were computed outside this code base, with a three-line Python
    // loop (h = ((h * 33) ^ c) & 0xffffffff), and are written here as constants.
    [Theory]
    [InlineData("", 5381u)]
    [InlineData("61", 177604u)]                 // "a": 5381 * 33 = 177573, ^ 0x61
    [InlineData("62", 177607u)]                 // "b"
    [InlineData("00", 177573u)]                 // NUL changes nothing but the multiply
    [InlineData("ff", 177498u)]                 // bytes are unsigned: a signed 0xFF (-1) would give 4294789722
    [InlineData("6162", 5860902u)]              // "ab"
    [InlineData("68656c6c6f", 178056679u)]      // "hello"
    [InlineData("216a6f6500", 98843780u)]       // "!joe\0", a users/cdb key
    [InlineData("6d6f726572637074686f737473", 4213904150u)] // "morercpthosts": wraps past 2^32
    [InlineData("616142", 193409671u)]           // "aaB" and "aba" collide:
    [InlineData("616261", 193409671u)]           //   found by brute force over 3-byte keys
    [InlineData("0061", 5859876u)]               // "\0a" and "\x01\0" collide too
    [InlineData("0100", 5859876u)]
    [InlineData("00000000000000000000", 900587333u)]
    [InlineData("ffffffffffffffffffff", 1044107749u)]
    public void Hash_matches_independently_computed_values(string keyHex, uint expected) =>
        CdbHash.Compute(Convert.FromHexString(keyHex)).Should().Be(expected);

    [Fact]
    public void Hash_of_every_byte_value_in_order() =>
        CdbHash.Compute(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()).Should().Be(3862580485u);

    [Fact]
    public void Hash_of_a_long_key() =>
        CdbHash.Compute(Enumerable.Repeat((byte)'x', 100).ToArray()).Should().Be(1488129285u);

    [Fact]
    public void Hash_of_long_colliding_keys()
    {
        var prefix = new string('x', 600);
        CdbHash.Compute(Encoding.ASCII.GetBytes(prefix + "  a")).Should().Be(420083396u);
        CdbHash.Compute(Encoding.ASCII.GetBytes(prefix + " !@")).Should().Be(420083396u);
    }

    [Fact]
    public void Empty_key_hashes_to_the_seed() => CdbHash.Compute([]).Should().Be(CdbHash.Seed).And.Be(5381u);
}
