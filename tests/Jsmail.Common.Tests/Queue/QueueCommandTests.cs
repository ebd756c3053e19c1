using System.Text;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Tests.Queue;

/// <summary>The request lines of jsmail-send's command socket (docs/jsmail.md).</summary>
public class QueueCommandTests
{
    private static QueueCommand? Parse(string line) => QueueCommand.Parse(Encoding.UTF8.GetBytes(line));

    [Theory]
    [InlineData(QueueVerb.Hold, 1234UL, "", "hold 1234\n")]
    [InlineData(QueueVerb.Flush, 0UL, "", "flush\n")]
    [InlineData(QueueVerb.Pending, 0UL, "", "pending\n")]
    [InlineData(QueueVerb.Bounce, 7UL, "spam, sorry", "bounce 7 spam, sorry\n")]
    public void Each_request_is_one_line_that_parses_back(QueueVerb verb, ulong id, string reason, string line)
    {
        var command = new QueueCommand(verb, id, reason);
        Encoding.UTF8.GetString(command.Encode()).Should().Be(line);
        Parse(line.TrimEnd('\n')).Should().Be(command);
    }

    [Theory]
    [InlineData("")]
    [InlineData("HOLD 1")]
    [InlineData("hold")]
    [InlineData("hold x1")]
    [InlineData("hold -1")]
    [InlineData("hold 1 2")]
    [InlineData("flush 1")]
    [InlineData("explode 1")]
    public void Anything_else_is_refused(string line) => Parse(line).Should().BeNull();

    [Fact]
    public void A_reason_cannot_break_the_line_and_the_bounce_text_ends_with_a_status_code()
    {
        var c = new QueueCommand(QueueVerb.Bounce, 1, "two\nlines");
        Encoding.UTF8.GetString(c.Encode()).Should().Be("bounce 1 two lines\n");
        Encoding.UTF8.GetString(new QueueCommand(QueueVerb.Bounce, 1).BounceReport()).Should().Be("Bounced by the postmaster. (#5.0.0)\n");
    }
}
