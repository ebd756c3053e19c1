using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.Send.Clean;
using Jsmail.Send.Send;
using Jsmail.Send.Todo;

namespace Jsmail.Send.Tests;

public class CodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    [Theory] // §16 item 36 and the §7 quirk
    [InlineData("todo/123\0", 0, CleanAction.Todo, 123UL)]
    [InlineData("foop/45\0", 0, CleanAction.Foop, 45UL)]
    [InlineData("junk\0", 1, CleanAction.None, 0UL)]
    [InlineData("todo/abc\0", 4, CleanAction.None, 0UL)]
    [InlineData("todo/12a\0", 1, CleanAction.Todo, 12UL)]
    [InlineData("todoX12\0", 0, CleanAction.Todo, 12UL)] // only "todo" is compared
    [InlineData("tod0/12\0", 1, CleanAction.None, 0UL)]
    [InlineData("foop/\0\0", 2, CleanAction.None, 0UL)]
    public void Clean_requests_parse_with_qmails_quirks(string request, int rejects, CleanAction action, ulong id)
    {
        var r = CleanRequest.Parse(B(request));
        (r.RejectCount, r.Action, r.Id).Should().Be((rejects, action, id));
    }

    [Fact]
    public void Clean_request_longer_than_100_bytes_is_rejected()
    {
        CleanRequest.Parse(B("todo/" + new string('1', 95) + "\0")).Action.Should().Be(CleanAction.None);
        CleanRequest.Parse(B("todo/" + new string('1', 94) + "\0")).Action.Should().Be(CleanAction.Todo);
    }

    [Theory] // §2.8, §16 item 12
    [InlineData("list-@lists.example-@[]", "bob@b.example", "list-bob=b.example@lists.example")]
    [InlineData("a@x", "bob@b.example", "a@x")]
    [InlineData("list-@lists.example-@[]", "nobox", "list-@lists.example-@[]")]
    [InlineData("nohost-@[]", "bob@b.example", "nohost-@[]")]
    [InlineData("", "bob@b.example", "")]
    [InlineData("o-@h-@[]", "a@b@c", "o-a@b=c@h")]
    public void Verp_expansion(string sender, string recipient, string expected) =>
        S(Verp.Expand(B(sender), B(recipient))).Should().Be(expected);

    [Fact]
    public void Delivery_command_is_qmails_wire_format() =>
        S(DeliveryCommand.Encode(5, 457, 23, B("list-@l.example-@[]"), B("u@y"))).Should()
            .Be("\x05" + "20/457\0list-u=y@l.example\0u@y\0");

    [Theory]
    [InlineData("did 1+0+0\n", "did_1+0+0/")]
    [InlineData("100%\tok\x7f\xff", "100__ok__")]
    public void Log_safe_transform(string text, string expected) => S(LogSafe.Of(B(text))).Should().Be(expected);

    [Fact]
    public void Result_decoder_splits_results_across_reads()
    {
        var d = new ResultDecoder();
        var got = new List<DeliveryResult>();
        d.Feed(B("\x01Kok\0\x02"), got);
        d.Feed(B("Zlater\n\0\0"), got);
        d.Feed(B("\0"), got); // a NUL at the start of a line is its slot byte; this one ends it
        got.Select(r => (r.Slot, (char)r.Status, S(r.Text))).Should().Equal((1, 'K', "ok"), (2, 'Z', "later\n"), (0, '\0', ""));
    }

    [Fact]
    public void Result_decoder_keeps_at_most_10000_bytes_of_a_line()
    {
        var d = new ResultDecoder();
        var got = new List<DeliveryResult>();
        d.Feed(B("\x00K" + new string('a', 20000) + "\0\x03Kx\0"), got);
        got.Should().HaveCount(2);
        got[0].Text.Length.Should().Be(9998);
        S(got[1].Text).Should().Be("x");
    }

    private static RecipientRewriter Rewriter(string locals, string vdoms = "", string percent = "", string envnoathost = "env.example") =>
        new(new ControlSet(ControlParse.List(B(locals))), new ControlSet(ControlParse.List(B(percent))),
            new ControlMap(ControlParse.List(B(vdoms))), B(envnoathost));

    [Theory] // §16 items 7, 8, 9
    [InlineData("bob@Local.Example", true, "bob@Local.Example")]
    [InlineData("bob@sub.local.example", false, "bob@sub.local.example")]
    [InlineData("bob", false, "bob@env.example")]
    [InlineData("Info@Example.ORG", true, "joe-Info@Example.ORG")]
    [InlineData("vip@example.org", true, "vipbox-vip@example.org")]
    [InlineData("x@a.sub.example.org", true, "sub-x@a.sub.example.org")]
    [InlineData("x@a.other.example.org", true, "org-x@a.other.example.org")]
    [InlineData("x@remote.example", false, "x@remote.example")]
    [InlineData("a%b@hack.example", false, "a@b")]
    [InlineData("a%b%hack.example@hack.example", false, "a@b")]
    [InlineData("a%b%c@hack.example", false, "a%b@c")]
    public void Recipient_rewriting(string recipient, bool local, string address)
    {
        var r = Rewriter("local.example\n",
            "example.org:joe\nvip@example.org:vipbox\n.sub.example.org:sub\n.org:org\nremote.example:\n",
            "hack.example\n");
        var got = r.Rewrite(B(recipient));
        (got.Local, S(got.Address)).Should().Be((local, address));
    }

    [Theory]
    [InlineData("x@nowhere.test", true, "catch-x@nowhere.test")]
    [InlineData("x", true, "catch-x@env.example")]
    [InlineData("x@remote.example", false, "x@remote.example")]
    [InlineData("x@local.example", true, "x@local.example")]
    public void Empty_virtualdomains_key_catches_every_other_domain(string recipient, bool local, string address)
    {
        var got = Rewriter("local.example\n", "remote.example:\n:catch\n").Rewrite(B(recipient));
        (got.Local, S(got.Address)).Should().Be((local, address));
    }

    [Theory] // §2.10, §16 item 10
    [InlineData("bob@b.example", "550 no\n\nGiving up", "<bob@b.example>:\n550 no\n/Giving up\n\n")]
    [InlineData("bob@b.example", "", "<bob@b.example>:\n\n")]
    [InlineData("joe-Info@Example.ORG", "x\n", "<Info@Example.ORG>:\nx\n\n")]
    [InlineData("vipbox-vip@example.org", "x\n", "<vipbox-vip@example.org>:\nx\n\n")]
    [InlineData("a\nb@c", "x\n\n\n\ny\n", "<a_b@c>:\nx\n///y\n\n")]
    public void Bounce_blocks(string recipient, string report, string expected)
    {
        var vdoms = new ControlMap(ControlParse.List(B("example.org:joe\nvip@example.org:vipbox\n")));
        S(BounceText.Block(B(recipient), B(report), vdoms)).Should().Be(expected);
    }

    [Theory] // §2.7, §16 item 14
    [InlineData(0, 10, 100)]
    [InlineData(99, 10, 361)] // a pass late by 99 s moves the schedule on
    [InlineData(100, 10, 400)]
    [InlineData(400, 10, 900)]
    [InlineData(0, 20, 400)]
    [InlineData(400, 20, 1600)]
    [InlineData(1600, 20, 3600)]
    [InlineData(3599, 20, 6241)]
    public void Retry_schedule(long age, int skip, long nextAge) =>
        (RetrySchedule.Next(1_000_000, 1_000_000 + age, skip) - 1_000_000).Should().Be(nextAge);

    [Theory]
    [InlineData("Lnew msg 5\n", TodoRecordKind.Log)]
    [InlineData("DB123", TodoRecordKind.Done)]
    [InlineData("DQ123", TodoRecordKind.Mangled)]
    [InlineData("DL", TodoRecordKind.Mangled)]
    [InlineData("X", TodoRecordKind.Exit)]
    [InlineData("?", TodoRecordKind.Unknown)]
    public void Todo_records(string record, TodoRecordKind kind) => TodoRecord.Parse(B(record)).Kind.Should().Be(kind);
}
