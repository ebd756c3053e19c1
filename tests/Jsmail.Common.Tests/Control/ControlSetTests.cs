using Jsmail.Common.Control;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Control;

public class ControlSetTests
{
    private static ControlSet Set(string file) => new(ControlParse.List(Bytes(file)));

    [Theory]
    [InlineData("example.com\nlocalhost\n", "example.com", true)]
    [InlineData("example.com\nlocalhost\n", "LOCALHOST", true)]
    [InlineData("Example.COM\n", "example.com", true)]
    [InlineData("example.com\n", "example.org", false)]
    [InlineData("example.com\n", "mail.example.com", false)]
    [InlineData("example.com\n", "", false)]
    [InlineData("\u00c4\n", "\u00e4", false)]
    [InlineData("# example.com\n", "example.com", false)]
    [InlineData("example.com\r\n", "example.com", false)]
    public void Contains_is_exact_up_to_ascii_case(string file, string name, bool expected) =>
        Set(file).Contains(Bytes(name)).Should().Be(expected);

    [Theory]
    [InlineData("example.com\n", "example.com", true)]
    [InlineData("example.com\n", "EXAMPLE.com", true)]
    [InlineData("example.com\n", "mail.example.com", false)]
    [InlineData(".example.com\n", "mail.example.com", true)]
    [InlineData(".example.com\n", "a.b.example.com", true)]
    [InlineData(".example.com\n", "example.com", false)]
    [InlineData(".example.com\n", "badexample.com", false)]
    [InlineData(".com\n", "example.com", true)]
    [InlineData("com\n", "example.com", false)]
    [InlineData("example.com\n", "", false)]
    public void ContainsDomainOrSuffix_is_the_rcpthosts_test(string file, string domain, bool expected) =>
        Set(file).ContainsDomainOrSuffix(Bytes(domain)).Should().Be(expected);

    [Fact]
    public void Duplicates_differing_in_case_count_once() => Set("a\nA\nb\n").Count.Should().Be(2);
}
