using Jsmail.Common.Message;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Message;

/// <summary>The header/body split, the lines handed over, and fields with their folding.</summary>
public class HeaderReaderTests
{
    /// <summary>Feeds <paramref name="text"/> in chunks of <paramref name="chunk"/> bytes; the lines seen and where the body starts (-1: not yet known).</summary>
    private static (List<string> Lines, long BodyStart, HeaderEnd End) Read(string text, HeaderLineEnds ends, bool atEnd,
        int chunk = int.MaxValue, int lineLimit = int.MaxValue, string? refuse = null)
    {
        var lines = new List<string>();
        var reader = new HeaderReader(ends, lineLimit);
        HeaderLineSink sink = line => { lines.Add(Text(line)); return Text(line) != refuse; };
        var bytes = Bytes(text);
        for (var i = 0; i < bytes.Length && !reader.Done; i += chunk)
        {
            var piece = bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i));
            var used = reader.Feed(piece, sink);
            if (!reader.Done) used.Should().Be(piece.Length);
        }
        if (atEnd) reader.Finish(sink);
        return (lines, reader.Done ? reader.Length : -1, reader.End);
    }

    [Theory]
    [InlineData("A: 1\n\nbody", true, 6)]
    [InlineData("A: 1\r\n\r\nbody", true, 8)]
    [InlineData("A: 1\r\rbody", true, 6)]
    [InlineData("\nbody", true, 1)]
    [InlineData("A: 1\nB: 2\n", true, 10)]
    [InlineData("A: 1\nB: 2\n", false, -1)]
    [InlineData("A: 1\r", false, -1)]
    [InlineData("A: 1\n\r", false, -1)]
    [InlineData("A: 1\n\r", true, 6)]
    [InlineData("A: 1\n\r\n", false, 7)]
    public void Where_the_body_starts_whichever_way_lines_end(string text, bool atEnd, int expected)
    {
        foreach (var chunk in new[] { int.MaxValue, 1, 2, 3 })
            Read(text, HeaderLineEnds.LfCrlfOrCr, atEnd, chunk).BodyStart.Should().Be(expected, $"chunks of {chunk}");
    }

    [Theory]
    [InlineData("A: 1\n\nbody", 6)]
    [InlineData("A: 1\r\n\r\nbody", 12)] // "\r\n" is a line of text to qmail: no empty line
    [InlineData("A: 1\r\n\nbody", 7)]
    [InlineData("A: 1\r\rbody", 10)]
    [InlineData("\nbody", 1)]
    public void Where_the_body_starts_when_only_lf_ends_lines(string text, int expected)
    {
        foreach (var chunk in new[] { int.MaxValue, 1, 4 })
            Read(text, HeaderLineEnds.Lf, atEnd: true, chunk).BodyStart.Should().Be(expected, $"chunks of {chunk}");
    }

    [Fact]
    public void Lines_are_handed_over_with_their_ends_and_a_last_line_without()
    {
        var (lines, _, end) = Read("A: 1\r\nB: 2\r\tc\nD", HeaderLineEnds.LfCrlfOrCr, atEnd: true, chunk: 5);
        lines.Should().Equal("A: 1\r\n", "B: 2\r", "\tc\n", "D");
        end.Should().Be(HeaderEnd.EndOfInput);
    }

    [Fact]
    public void The_empty_line_is_not_handed_over_and_nothing_after_it_is_read()
    {
        var (lines, start, end) = Read("A: 1\n\nB: 2\n", HeaderLineEnds.Lf, atEnd: true);
        lines.Should().Equal("A: 1\n");
        (start, end).Should().Be((6L, HeaderEnd.EmptyLine));
    }

    [Fact]
    public void A_refused_line_ends_the_header_after_it()
    {
        var (lines, start, end) = Read("A: 1\nnot a field\nB: 2\n\n", HeaderLineEnds.Lf, atEnd: true, chunk: 3, refuse: "not a field\n");
        lines.Should().Equal("A: 1\n", "not a field\n");
        (start, end).Should().Be((17L, HeaderEnd.Refused));
    }

    [Fact]
    public void A_line_limit_hands_over_only_the_start_of_each_line()
    {
        const string text = "Received: a long line\nDelivered-To: b\nSubject: c\n\nbody";
        var (lines, start, _) = Read(text, HeaderLineEnds.Lf, atEnd: true, chunk: 4, lineLimit: 3);
        lines.Should().Equal("Rec", "Del", "Sub");
        start.Should().Be(text.Length - 4);
    }

    [Fact]
    public void A_line_limit_below_two_still_sees_an_empty_line_whole()
    {
        Read("X\n\nbody", HeaderLineEnds.Lf, atEnd: true, lineLimit: 0).BodyStart.Should().Be(3);
        Read("\r\nX", HeaderLineEnds.LfCrlfOrCr, atEnd: true, lineLimit: 0).BodyStart.Should().Be(2);
    }

    [Fact]
    public void Fields_keep_their_folding_and_skip_lines_that_start_none()
    {
        var fields = HeaderField.ReadAll(Bytes("From nobody Mon\nFrom: a@b\nSubject: one\r\n\ttwo\r\nBad line\n\tlost\nTo : c@d\n\nBody: no\n"),
            HeaderLineEnds.LfCrlfOrCr);
        fields.Select(f => Text(f.Name)).Should().Equal("From", "Subject", "To");
        fields[1].RawLines.Select(l => Text(l)).Should().Equal("Subject: one\r\n", "\ttwo\r\n");
        Text(fields[1].Raw()).Should().Be("Subject: one\r\n\ttwo\r\n");
        fields[1].Lines().Select(l => Text(l)).Should().Equal("Subject: one", "\ttwo");
        Text(fields[1].Unfolded()).Should().Be("Subject: one\ttwo");
        Text(fields[1].Value()).Should().Be(" one\ttwo");
        Text(fields[2].Value()).Should().Be(" c@d");
    }

    [Theory]
    [InlineData("X: a\r\n b\n", HeaderLineEnds.Lf, "X: a\r b")] // to qmail the CR is text
    [InlineData("X: a\r\n b\n", HeaderLineEnds.LfCrlfOrCr, "X: a b")]
    [InlineData("X: a\r b\r", HeaderLineEnds.LfCrlfOrCr, "X: a b")]
    [InlineData("X: a:b\n\t c", HeaderLineEnds.Lf, "X: a:b\t c")]
    public void Unfolding_removes_only_line_ends(string header, HeaderLineEnds ends, string unfolded) =>
        Text(HeaderField.ReadAll(Bytes(header), ends).Single().Unfolded()).Should().Be(unfolded);

    [Theory]
    [InlineData(": no name\n")]
    [InlineData("two words: x\n")]
    [InlineData(" \t: x\n")]
    [InlineData("no colon\n")]
    public void Lines_that_start_no_field_give_none(string header) =>
        HeaderField.ReadAll(Bytes(header), HeaderLineEnds.Lf).Should().BeEmpty();

    [Fact]
    public void A_name_keeps_its_case_and_loses_the_blanks_before_the_colon() =>
        Text(HeaderField.ReadAll(Bytes("X-Mixed \t: v\n"), HeaderLineEnds.Lf).Single().Name).Should().Be("X-Mixed");
}
