using Jsmail.Common.Control;

namespace Jsmail.Common.Tests.Control;

public class AsciiCaseTests
{
    [Fact]
    public void Only_A_to_Z_are_folded()
    {
        for (var b = 0; b < 256; b++)
        {
            var expected = b is >= 'A' and <= 'Z' ? b + 32 : b;
            AsciiCase.Lower((byte)b).Should().Be((byte)expected, "byte {0}", b);
        }
    }

    [Fact]
    public void Latin1_and_UTF8_letters_stay_as_they_are() =>
        AsciiCase.ToLower("Ab\u00c0\u00c9Z"u8).Should().Equal("ab\u00c0\u00c9z"u8.ToArray());

    [Theory]
    [InlineData("Example.COM", "example.com", true)]
    [InlineData("example.com", "example.co", false)]
    [InlineData("[", "{", false)]
    public void Equality_ignores_only_ascii_case(string a, string b, bool expected) =>
        AsciiCase.EqualsIgnoringCase(System.Text.Encoding.Latin1.GetBytes(a), System.Text.Encoding.Latin1.GetBytes(b))
            .Should().Be(expected);

    [Fact]
    public void Latin1_letters_differing_only_in_case_are_unequal() =>
        AsciiCase.EqualsIgnoringCase([0xC0], [0xE0]).Should().BeFalse();
}
