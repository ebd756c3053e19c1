using Jsmail.Common.Control;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Control;

public class ControlMapTests
{
    private static ControlMap Map(string file) => new(ControlParse.List(Bytes(file)));

    private static string? Lookup(ControlMap map, string key) =>
        map.TryGetValue(Bytes(key), out var value) ? Text(value) : null;

    [Theory]
    [InlineData("a.com:x\nb.com:y\n", "a.com", "x")]
    [InlineData("a.com:x\nb.com:y\n", "b.com", "y")]
    [InlineData("a.com:x\n", "c.com", null)]
    [InlineData("Example.COM:v\n", "example.com", "v")]
    [InlineData("example.com:v\n", "EXAMPLE.Com", "v")]
    // The key ends at the first colon; later colons belong to the value (smtproutes host:port).
    [InlineData("a.com:relay.net:2525\n", "a.com", "relay.net:2525")]
    [InlineData("a.com:relay.net:2525\n", "a.com:relay.net", null)]
    // Later duplicates win, whatever their case.
    [InlineData("a.com:1\nA.COM:2\n", "a.com", "2")]
    [InlineData("a.com:1\na.com:2\na.com:3\n", "A.com", "3")]
    [InlineData(":default.relay\n", "", "default.relay")]
    [InlineData("a.com:\n", "a.com", "")]
    // Lines without a colon are not entries.
    [InlineData("nocolon\n", "nocolon", null)]
    [InlineData("nocolon\n", "", null)]
    // Values keep their bytes; only the list layer strips trailing blanks.
    [InlineData("a.com: spaced value \n", "a.com", " spaced value")]
    // Only A-Z fold: '@'/'`', '['/'{' and bytes >= 128 compare exactly.
    [InlineData("@:1\n", "`", null)]
    [InlineData("[:1\n", "{", null)]
    [InlineData("\u00c4:1\n", "\u00e4", null)]
    [InlineData("\u00c4:1\n", "\u00c4", "1")]
    public void Lookup_by_key(string file, string key, string? expected) =>
        Lookup(Map(file), key).Should().Be(expected);

    [Fact]
    public void Count_ignores_lines_without_colon_and_merges_duplicates() =>
        Map("a:1\nnocolon\nA:2\nb:3\n").Count.Should().Be(2);

    [Theory]
    [InlineData("a.b.c:whole\n.b.c:dotbc\n.c:dotc\n:any\n", "a.b.c", "whole")]
    [InlineData(".b.c:dotbc\n.c:dotc\n:any\n", "a.b.c", "dotbc")]
    [InlineData(".c:dotc\n:any\n", "a.b.c", "dotc")]
    [InlineData(":any\n", "a.b.c", "any")]
    [InlineData("b.c:bc\n", "a.b.c", null)]
    [InlineData("c:c\n", "a.b.c", null)]
    [InlineData(".b.c:dotbc\n", "b.c", null)]
    [InlineData("A.B.C:whole\n", "a.b.c", "whole")]
    [InlineData(":any\n", "", "any")]
    [InlineData("x.org:x\n", "a.b.c", null)]
    // A trailing dot makes "." itself a suffix, as in qmail.
    [InlineData(".:dot\n", "host.", "dot")]
    public void Lookup_by_domain_tries_host_then_dot_suffixes_then_empty_key(string file, string host, string? expected) =>
        (Map(file).TryGetByDomain(Bytes(host), out var value) ? Text(value) : null).Should().Be(expected);
}
