using System.Text;
using Jsmail.Common.Remote;

namespace Jsmail.Remote.Tests;

public class ChunkEncoderTests
{
    private static string Encode(string message, bool binary, int piece)
    {
        var encoder = new ChunkEncoder(binary);
        var output = new List<byte>();
        var bytes = Encoding.Latin1.GetBytes(message);
        for (var i = 0; i < bytes.Length; i += piece) encoder.Encode(bytes.AsSpan(i, Math.Min(piece, bytes.Length - i)), output);
        encoder.Finish(output);
        return Encoding.Latin1.GetString(output.ToArray());
    }

    [Theory]
    [InlineData("a\n.b\n..c\n", "a\r\n.b\r\n..c\r\n")]
    [InlineData("a\r\nb\rc\n", "a\r\nb\r\nc\r\n")]
    [InlineData("last line without end", "last line without end")]
    [InlineData("x\nends in CR\r", "x\r\nends in CR\r\n")]
    [InlineData(".\n", ".\r\n")]
    [InlineData("", "")]
    public void Text_gets_crlf_line_ends_and_no_dot_stuffing_in_pieces_of_any_size(string message, string wire)
    {
        foreach (var piece in new[] { 1, 2, 3, 1000 })
            Encode(message, binary: false, piece).Should().Be(wire, $"fed {piece} bytes at a time");
    }

    [Theory]
    [InlineData("Received: by x\nSubject: b\r\n\r\nbody\nbare LF\r lone CR\0\r\n.\r\n", "Received: by x\r\nSubject: b\r\n\r\nbody\nbare LF\r lone CR\0\r\n.\r\n")]
    [InlineData("Received: by x\n\nbody\n\n", "Received: by x\r\n\r\nbody\n\n")]
    [InlineData("A: 1\rx\n\r\nbody\n", "A: 1\rx\r\n\r\nbody\n")]
    [InlineData("A: 1\n", "A: 1\r\n")]
    public void Binary_gets_crlf_in_its_header_only_and_its_body_byte_for_byte(string message, string wire)
    {
        foreach (var piece in new[] { 1, 2, 3, 1000 })
            Encode(message, binary: true, piece).Should().Be(wire, $"fed {piece} bytes at a time");
    }
}

public class PeerLimitsTests
{
    [Theory]
    [InlineData("RCPTMAX=20 MAILMAX=5", 20, 5)]
    [InlineData("mailmax=3", 0, 3)]
    [InlineData("RCPTMAX=7 RCPTMAX=9", 7, 0)]
    [InlineData("RCPTMAX=0 MAILMAX=-1", 0, 0)]
    [InlineData("RCPTMAX=1000000000 MAILMAX=x2", 0, 0)]
    [InlineData("RCPTMAX= MAILMAX 4 =5", 0, 0)]
    [InlineData("FUTURELIMIT=1 RCPTMAX=50", 50, 0)]
    [InlineData("", 0, 0)]
    public void Takes_rcptmax_and_mailmax_and_ignores_the_rest(string argument, int rcpt, int mail) =>
        PeerLimits.Parse(argument).Should().Be(new PeerLimits(rcpt, mail));
}
