using Jsmail.Common.Control;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Control;

public class ControlParseTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("\n", "")]
    [InlineData("mail.example.com", "mail.example.com")]
    [InlineData("mail.example.com\n", "mail.example.com")]
    [InlineData("host \t \t\n", "host")]
    [InlineData("host\t", "host")]
    [InlineData(" \t \n", "")]
    [InlineData("  indented\n", "  indented")]
    [InlineData("two words\n", "two words")]
    [InlineData("first\nsecond\n", "first")]
    [InlineData("first\n\n", "first")]
    [InlineData("\nsecond\n", "")]
    // qmail strips only space, tab and LF: a file written with CRLF keeps its CR.
    [InlineData("host\r\n", "host\r")]
    [InlineData("host \r\n", "host \r")]
    [InlineData("host\r \t\n", "host\r")]
    [InlineData("a\0b\n", "a\0b")]
    [InlineData("\u00ff\u00e4\n", "\u00ff\u00e4")]
    public void Line_is_the_first_line_without_trailing_blanks(string file, string expected) =>
        Text(ControlParse.Line(Bytes(file))).Should().Be(expected);

    [Theory]
    [InlineData("", null)]
    [InlineData("\n", null)]
    [InlineData("0", 0u)]
    [InlineData("10", 10u)]
    [InlineData("1200\n", 1200u)]
    [InlineData("604800 \r\n", 604800u)]
    [InlineData("007", 7u)]
    [InlineData("10abc", 10u)]
    [InlineData("12 34", 12u)]
    [InlineData("1\r\n", 1u)]
    [InlineData(" 10", null)]
    [InlineData("\t10", null)]
    [InlineData("+10", null)]
    [InlineData("-1", null)]
    [InlineData("abc", null)]
    [InlineData("abc\n12", null)]
    [InlineData("\n42\n", null)]
    [InlineData("4294967295", uint.MaxValue)]
    // Beyond 32 bits qmail wraps; jsmail saturates.
    [InlineData("4294967296", uint.MaxValue)]
    [InlineData("99999999999999999999999999", uint.MaxValue)]
    public void Integer_is_the_leading_digits_of_the_first_line(string file, uint? expected) =>
        ControlParse.Integer(Bytes(file)).Should().Be(expected);

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("\n\n\n", new string[0])]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a  \t\nb \n", new[] { "a", "b" })]
    [InlineData("  \n\t\nx", new[] { "x" })]
    [InlineData("#comment\na\n# another\n", new[] { "a" })]
    [InlineData("#", new string[0])]
    [InlineData(" #not a comment\n", new[] { " #not a comment" })]
    [InlineData("\tlead\n", new[] { "\tlead" })]
    [InlineData("a#b\n", new[] { "a#b" })]
    [InlineData("key:value\n", new[] { "key:value" })]
    [InlineData("a\r\nb\r\n", new[] { "a\r", "b\r" })]
    [InlineData("\r\n", new[] { "\r" })]
    [InlineData("dup\ndup\n", new[] { "dup", "dup" })]
    [InlineData("\n\na\n\n\nb\n\n", new[] { "a", "b" })]
    public void List_keeps_non_empty_non_comment_lines_in_order(string file, string[] expected) =>
        ControlParse.List(Bytes(file)).Select(e => Text(e)).Should().Equal(expected);
}
