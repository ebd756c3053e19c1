using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Tests.Queue;

public class RemoteParametersTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    private static string Words(IReadOnlyList<EsmtpParameter> list) =>
        string.Join(" ", list.Select(p => p.Keyword + (p.ValueText is { } v ? "=" + v : "")));

    [Fact]
    public void Encodes_the_documented_layout()
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("RET", "HDRS"));
        ext.Sender.Add(EsmtpParameter.Of("ENVID", "QQ1"));
        ext.ForRecipient(1).Add(EsmtpParameter.Of("NOTIFY", "SUCCESS,FAILURE"));
        var file = new RemoteParameters(1234, 1700000000, [B("a@x.test"), B("b@x.test")], ext);

        S(file.Encode()).Should().Be(
            "I1234,1700000000\0Ta@x.test\0Tb@x.test\0X1\0MRET=HDRS\0MENVID=QQ1\0R1\0PNOTIFY=SUCCESS,FAILURE\0\0");
    }

    public static TheoryData<string, string, string?> Lookups => new()
    {
        // file, address looked up, expected "MAIL | RCPT" words (null: not found)
        { "I1,2\0Ta@x\0Tb@y\0X1\0MRET=FULL\0R1\0PNOTIFY=NEVER\0\0", "b@y", "RET=FULL | NOTIFY=NEVER" },
        { "I1,2\0Ta@x\0Tb@y\0X1\0MRET=FULL\0R1\0PNOTIFY=NEVER\0\0", "a@x", "RET=FULL | " },
        { "I1,2\0Ta@x\0Tb@y\0X1\0MRET=FULL\0R1\0PNOTIFY=NEVER\0\0", "c@z", null },
        { "I1,2\0Ta@x\0Tb@y\0X1\0MRET=FULL\0R1\0PNOTIFY=NEVER\0\0", "A@x", null }, // bytes, as qmail compares them
        // duplicate addresses: the first one's parameters
        { "I1,2\0Td@x\0Td@x\0X1\0R0\0PNOTIFY=SUCCESS\0R1\0PNOTIFY=NEVER\0\0", "d@x", " | NOTIFY=SUCCESS" },
        { "I1,2\0Td@x\0Td@x\0X1\0R1\0PNOTIFY=NEVER\0\0", "d@x", " | " },
        // an empty address (a bounce to <>? never remote, but the format allows it) and 8-bit bytes
        { "I0,0\0T\0T\u00e9@x\0X1\0R1\0PSMTPUTF8-X\0\0", "\u00e9@x", " | SMTPUTF8-X" },
    };

    [Theory, MemberData(nameof(Lookups))]
    public void Finds_the_first_recipient_with_the_address(string file, string address, string? expected)
    {
        var found = RemoteParameters.Decode(B(file)).For(B(address));
        if (expected == null) found.Should().BeNull();
        else
        {
            found.Should().NotBeNull();
            $"{Words(found!.Value.Mail)} | {Words(found.Value.Rcpt)}".Should().Be(expected);
        }
    }

    [Fact]
    public void Round_trips_and_knows_its_mess_file()
    {
        var ext = new EnvelopeExtension();
        ext.ForRecipient(0).Add(EsmtpParameter.Of("ORCPT", "utf-8;j\u00f6rg@x"));
        var back = RemoteParameters.Decode(new RemoteParameters(99, 12345, [B("j@x"), B("k@y")], ext).Encode());
        back.MessSize.Should().Be(99);
        back.MessMtime.Should().Be(12345);
        back.Recipients.Select(S).Should().Equal("j@x", "k@y");
        back.Belongs(99, 12345).Should().BeTrue();
        back.Belongs(98, 12345).Should().BeFalse();
        back.Belongs(99, 12346).Should().BeFalse();
        back.Extension.ParametersOf(0).Single().ValueText.Should().Be("utf-8;j\u00f6rg@x");
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "", "empty" },
        { "I1,2", "mess record cut short" },
        { "I1,2\0", "no recipients, no block" },
        { "I1,2\0Ta@x", "recipient cut short" },
        { "I1,2\0Ta@x\0", "block missing" },
        { "I1,2\0Ta@x\0X1\0MRET=FULL\0", "block cut short" },
        { "I1,2\0Ta@x\0X1\0MRET=FULL", "block cut short inside a record" },
        { "I1,2\0X1\0\0", "no recipients" },
        { "Ta@x\0X1\0\0", "no mess record" },
        { "I12\0Ta@x\0X1\0\0", "mess record without comma" },
        { "I,2\0Ta@x\0X1\0\0", "empty size" },
        { "I1,\0Ta@x\0X1\0\0", "empty mtime" },
        { "I-1,2\0Ta@x\0X1\0\0", "negative size" },
        { "I1,2x\0Ta@x\0X1\0\0", "letter in mtime" },
        { "I1,9999999999999999999\0Ta@x\0X1\0\0", "mtime too long" },
        { "I1,2\0Ta@x\0X1\0R1\0PNOTIFY=NEVER\0\0", "index beyond the recipients" },
        { "I1,2\0Ta@x\0X1\0\0junk", "bytes after the block" },
        { "I1,2\0Ta@x\0Fb@y\0X1\0\0", "unknown record between recipients and block" },
        { "I1,2\0Ta@x\0X1\0MRET=a b\0\0", "space in a value" },
        { "\0\0\0\0", "garbage" },
        { "GIF89a\0\u0001\u0002", "garbage" },
    };

    [Theory, MemberData(nameof(BadFiles))]
    public void Refuses_malformed_or_truncated_files(string file, string why)
    {
        var act = () => RemoteParameters.Decode(B(file));
        act.Should().Throw<RemoteParametersException>(why);
    }

    [Fact]
    public void Every_prefix_of_a_good_file_is_refused()
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("ENVID", "QQ1"));
        ext.ForRecipient(1).Add(EsmtpParameter.Of("NOTIFY", "NEVER"));
        var good = new RemoteParameters(5, 6, [B("a@x"), B("b@y")], ext).Encode();
        for (var n = 0; n < good.Length; n++)
        {
            var cut = good[..n];
            var act = () => RemoteParameters.Decode(cut);
            act.Should().Throw<RemoteParametersException>("a file cut at {0} bytes is not whole", n);
        }
        RemoteParameters.Decode(good).Recipients.Should().HaveCount(2);
    }

    [Fact]
    public void Encode_refuses_what_could_not_be_read_back()
    {
        var ext = new EnvelopeExtension();
        ext.ForRecipient(2).Add(EsmtpParameter.Of("NOTIFY", "NEVER"));
        var beyond = () => new RemoteParameters(1, 2, [B("a@x")], ext).Encode();
        beyond.Should().Throw<RemoteParametersException>();
        var nul = () => new RemoteParameters(1, 2, [B("a\0@x")], new EnvelopeExtension()).Encode();
        nul.Should().Throw<RemoteParametersException>();
    }

    [Fact]
    public void Paths_are_split_like_mess()
    {
        RemoteParameters.PathOf(50).Should().Be("rparam/4/50");
        RemoteParameters.PathFromMess(B("4/50")).Should().Be("../rparam/4/50");
    }
}
