using System.Text;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send;

namespace Jsmail.Send.Tests;

/// <summary>
/// The grouped-command extension of the spawner protocol (docs/spawn-protocol.md),
/// both sides as pure codecs, and jsmail-send's plan of a pass's deliveries.
/// </summary>
public class GroupedDeliveryCodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    [Fact]
    public void The_announcement_is_marker_J_words_NUL_and_parses_back()
    {
        GroupedDelivery.Announcement(50).Should().Equal(B("\xFFJrecipients=50\0"));
        GroupedDelivery.ParseAnnouncement(GroupedDelivery.Announcement(50)).Should().Be(50);
        GroupedDelivery.ParseAnnouncement(B("\xFFJfuture=1 recipients=7 more\0")).Should().Be(7, "unknown words are for later versions");
        GroupedDelivery.ParseAnnouncement(B("\xFFJrecipients=999999\0")).Should().Be(GroupedDelivery.MaxRecipients);
    }

    [Theory]
    [InlineData("")]                                  // qmail's spawners write nothing more
    [InlineData("\xFFJrecipients=50")]                 // no NUL
    [InlineData("\xFFJrecipients=0\0")]
    [InlineData("\xFFJrecipients=x\0")]
    [InlineData("\xFFJ\0")]
    [InlineData("\x00Kdid 1+0+0\n\0")]                 // a result is never an announcement
    [InlineData("\xFFJrecipients=5\0\x00Kx\0")]        // more than one announcement's bytes
    public void Anything_else_is_no_announcement(string bytes) =>
        GroupedDelivery.ParseAnnouncement(B(bytes)).Should().BeNull();

    [Fact]
    public void A_grouped_command_is_marker_slot_id_sender_recipients_and_an_empty_field()
    {
        S(GroupedDelivery.EncodeCommand(5, 457, 23, B("s@x"), [B("a@y"), B("b@Y")]))
            .Should().Be("\xFF\u000520/457\0s@x\0a@y\0b@Y\0\0");
    }

    [Theory]
    // plain: qmail's commands, and 0xFF is only a slot (refused as too big by the spawner)
    [InlineData(false, "\u000520/457\0s@x\0u@y\0", "5|20/457|s@x|u@y")]
    [InlineData(false, "\xFF\u00051/2\0s\0a@y\0b@y\0\0", "255|\u00051/2|s|a@y")]
    // grouped: marker, then recipients up to the empty field; plain commands still work
    [InlineData(true, "\xFF\u00051/2\0s\0a@y\0b@y\0\0", "5|1/2|s|a@y,b@y")]
    [InlineData(true, "\u00011/2\0s\0a@y\0\xFF\u00021/2\0s\0b@y\0c@y\0\0\u00031/2\0s\0d@y\0", "1|1/2|s|a@y;2|1/2|s|b@y,c@y;3|1/2|s|d@y")]
    [InlineData(true, "\xFF\u00051/2\0s\0\0", "5|1/2|s|")]   // no recipient at all: one empty one
    [InlineData(true, "\xFF\u00051/2\0s\0a@y\0", "")]       // incomplete
    public void Commands_decode_whatever_the_chunking(bool grouped, string stream, string expected)
    {
        foreach (var chunk in new[] { 1, 2, 5, 1000 })
        {
            var decoder = new SpawnCommandDecoder(grouped);
            var got = new List<SpawnCommand>();
            var bytes = B(stream);
            for (var i = 0; i < bytes.Length; i += chunk)
                decoder.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), got);
            string.Join(";", got.Select(c => $"{c.Slot}|{S(c.MessageId)}|{S(c.Sender)}|{string.Join(",", c.Recipients.Select(r => S(r)))}"))
                .Should().Be(expected, "chunks of {0}", chunk);
        }
    }

    [Fact]
    public void The_encoder_and_decoder_agree()
    {
        var decoder = new SpawnCommandDecoder(grouped: true);
        var got = new List<SpawnCommand>();
        decoder.Feed(GroupedDelivery.EncodeCommand(7, 99, 23, B("s@x"), [B("a@y"), B("b@y"), B("c@y")]), got);
        decoder.Feed(DeliveryCommand.Encode(8, 99, 23, B("s@x"), B("d@y")), got);
        got.Should().HaveCount(2);
        got[0].Slot.Should().Be(7);
        S(got[0].MessageId).Should().Be("7/99");
        got[0].Recipients.Select(r => S(r)).Should().Equal("a@y", "b@y", "c@y");
        got[1].Recipients.Select(r => S(r)).Should().Equal("d@y");
    }

    [Fact]
    public void The_spawner_refuses_mixed_domains_and_too_many_recipients_for_each_of_them()
    {
        GroupedDelivery.CheckRecipients([B("a@y.example"), B("b@Y.EXAMPLE")], 10).Should().BeNull();
        GroupedDelivery.CheckRecipients([B("a")], 10).Should().BeNull("one recipient gets qmail's own checks");
        GroupedDelivery.CheckRecipients([B("a@y"), B("b@z")], 10).Should().Be(GroupedDelivery.MixedDomains);
        GroupedDelivery.CheckRecipients([B("a@y"), B("b")], 10).Should().Be(GroupedDelivery.MixedDomains);
        GroupedDelivery.CheckRecipients([B("a@y"), B("b@y"), B("c@y")], 2).Should().Be(GroupedDelivery.TooManyRecipients);
    }

    private static string Plan(string channelFile, int limit)
    {
        var plan = RecipientGroups.Of(B(channelFile), limit);
        return string.Join(";", plan.Deliveries.Select(d => string.Join(",", d.Select(r => $"{S(r.Address)}@{r.RecordOffset}"))))
               + (plan.UnknownRecord ? " +unknown" : "");
    }

    [Theory]
    [InlineData("Ta@x\0Tb@y\0Tc@X\0", 50, "a@x@0,c@X@10;b@y@5")]
    [InlineData("Ta@x\0Tb@y\0Tc@X\0", 1, "a@x@0;b@y@5;c@X@10")]
    [InlineData("Da@x\0Tb@x\0Tc@x\0", 50, "b@x@5,c@x@10")]        // done records are skipped
    [InlineData("Ta\0Tb\0Tc@x\0Td@x\0", 50, "a@0;b@3;c@x@6,d@x@11")] // no '@': alone
    [InlineData("Ta@x\0Tb@x\0Tc@x\0Td@x\0Te@x\0", 2, "a@x@0,b@x@5;c@x@10,d@x@15;e@x@20")]
    [InlineData("Ta@x\0Qb@x\0Tc@x\0", 50, "a@x@0 +unknown")]       // the pass stops at an unknown record
    [InlineData("Ta@x\0Tb@x", 50, "a@x@0")]                        // a record without NUL is the end
    [InlineData("", 50, "")]
    public void A_pass_groups_recipients_by_domain_up_to_the_limit(string channelFile, int limit, string expected)
    {
        Plan(channelFile, limit).Should().Be(expected); // address@offset
    }

    [Fact]
    public void One_hundred_twenty_recipients_at_one_domain_make_50_50_20()
    {
        var file = string.Concat(Enumerable.Range(0, 120).Select(i => $"Tu{i}@x.test\0"));
        RecipientGroups.Of(B(file), 50).Deliveries.Select(d => d.Length).Should().Equal(50, 50, 20);
    }
}
