using System.Text;
using Jsmail.Common.Dkim;
using Jsmail.Common.Message;

namespace Jsmail.DkimSign.Tests;

/// <summary>RFC 6376 §3.4 relaxed canonicalization over the lines jsmail-remote puts on the wire.</summary>
public class CanonicalizationTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(IEnumerable<byte> b) => Encoding.Latin1.GetString(b.ToArray());

    private sealed class ListSink : IByteSink
    {
        public readonly List<byte> Bytes = [];
        public void Write(ReadOnlySpan<byte> bytes) => Bytes.AddRange(bytes.ToArray());
    }

    private static string Body(string input, int chunk)
    {
        var sink = new ListSink();
        var body = new RelaxedBody(sink);
        var bytes = B(input);
        for (var i = 0; i < bytes.Length; i += chunk) body.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        body.Finish();
        return S(sink.Bytes);
    }

    [Theory]
    [InlineData(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n")] // RFC 6376 §3.4.6's example
    [InlineData("", "")]
    [InlineData("\n\n\n", "")]
    [InlineData(" \t \n\t\n", "")]
    [InlineData("a\n", "a\r\n")]
    [InlineData("a", "a\r\n")]
    [InlineData("a  b\t\tc \t\n", "a b c\r\n")]
    [InlineData("\t lead\n", " lead\r\n")]
    [InlineData("a\n\n\nb\n\n", "a\r\n\r\n\r\nb\r\n")]
    [InlineData("a\n  \nb\n", "a\r\n\r\nb\r\n")]
    [InlineData("a\rb\r\n", "a\r\nb\r\n")] // a lone CR ends a line, as jsmail-remote sends it
    [InlineData("a\r", "a\r\n")]
    [InlineData("a\r\r\n", "a\r\n")]
    [InlineData("caf\xe9 \xfc\n", "caf\xe9 \xfc\r\n")]
    [InlineData(".dot\n", ".dot\r\n")]
    public void Relaxed_body(string input, string expected)
    {
        foreach (var chunk in new[] { 1, 2, 3, 1000 })
            Body(input, chunk).Should().Be(expected, $"fed in chunks of {chunk}");
    }

    [Fact]
    public void A_long_body_passes_through_the_buffer_whole()
    {
        var line = new string('x', 999) + "\n";
        var input = string.Concat(Enumerable.Repeat(line, 100));
        Body(input, 4096).Should().Be(input.Replace("\n", "\r\n"));
    }

    [Theory]
    [InlineData(new[] { "A: X" }, "a:X\r\n")] // RFC 6376 §3.4.6
    [InlineData(new[] { "B : Y\t", "\tZ  " }, "b:Y Z\r\n")]
    [InlineData(new[] { "Subject:   many    spaces   " }, "subject:many spaces\r\n")]
    [InlineData(new[] { "Subject:" }, "subject:\r\n")]
    [InlineData(new[] { "Subject: \t" }, "subject:\r\n")]
    [InlineData(new[] { "To: a@b,", " c@d,", "\t e@f" }, "to:a@b, c@d, e@f\r\n")]
    [InlineData(new[] { "MESSAGE-ID: <X@Y>" }, "message-id:<X@Y>\r\n")]
    [InlineData(new[] { "Subject: caf\xe9" }, "subject:caf\xe9\r\n")]
    [InlineData(new[] { "X:a:b" }, "x:a:b\r\n")]
    public void Relaxed_header(string[] lines, string expected) =>
        S(RelaxedHeader.Canonicalize(lines.Select(B).ToList())).Should().Be(expected);

    [Fact]
    public void Fields_keep_their_continuation_lines_and_skip_lines_that_are_no_field()
    {
        var fields = HeaderField.ReadAll(B("From nobody Mon\nFrom: a@b\nSubject: one\n\ttwo\r\nBad line\n\tlost continuation\nTo : c@d\n\nBody: no\n"), HeaderLineEnds.LfCrlfOrCr);
        fields.Select(f => S(f.Name)).Should().Equal("From", "Subject", "To");
        fields[1].Lines().Select(S).Should().Equal("Subject: one", "\ttwo");
        fields[2].Lines().Select(S).Should().Equal("To : c@d");
    }

    [Theory]
    [InlineData("From: a@b\n", "\n")]
    [InlineData("From: a@b\r\n", "\r\n")]
    [InlineData("From: a@b\rX", "\n")]
    [InlineData("", "\n")]
    public void The_added_field_ends_its_lines_as_the_message_does(string text, string expected) =>
        S(SignatureField.LineEndOf(B(text))).Should().Be(expected);
}
