using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Tests.Envelope;

public class EnvelopeExtensionCodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void Encodes_sender_and_recipient_parameters_in_the_documented_layout()
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("SIZE", "1234"));
        ext.Sender.Add(EsmtpParameter.Of("BODY", "8BITMIME"));
        ext.Sender.Add(EsmtpParameter.Of("SMTPUTF8"));
        ext.Sender.Add(EsmtpParameter.Of("RET", "HDRS"));
        ext.Sender.Add(EsmtpParameter.Of("ENVID", "QQ314159"));
        ext.ForRecipient(0).Add(EsmtpParameter.Of("NOTIFY", "SUCCESS,FAILURE"));
        ext.ForRecipient(0).Add(EsmtpParameter.Of("ORCPT", "rfc822;a+2Bb@x.example"));
        ext.ForRecipient(2).Add(EsmtpParameter.Of("NOTIFY", "NEVER"));

        Encoding.Latin1.GetString(EnvelopeExtensionCodec.Encode(ext)).Should().Be(
            "X1\0MSIZE=1234\0MBODY=8BITMIME\0MSMTPUTF8\0MRET=HDRS\0MENVID=QQ314159\0" +
            "R0\0PNOTIFY=SUCCESS,FAILURE\0PORCPT=rfc822;a+2Bb@x.example\0R2\0PNOTIFY=NEVER\0\0");
    }

    [Fact]
    public void Round_trips()
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("X-PLUGIN", "v"));
        ext.Sender.Add(new EsmtpParameter("EMPTY", []));
        ext.ForRecipient(5).Add(EsmtpParameter.Of("ORCPT", "utf-8;\u00e9@x"));
        var back = EnvelopeExtensionCodec.Decode(EnvelopeExtensionCodec.Encode(ext), 6);
        back.Sender.Select(p => (p.Keyword, p.ValueText)).Should().Equal(("X-PLUGIN", "v"), ("EMPTY", ""));
        back.ParametersOf(5).Single().ValueText.Should().Be("utf-8;\u00e9@x");
        back.ParametersOf(0).Should().BeEmpty();
    }

    public static TheoryData<string, string> BadBlocks => new()
    {
        { "X1\0MSIZE=1\0", "not terminated" },
        { "X2\0\0", "unknown version" },
        { "X1\0Q\0\0", "unknown record" },
        { "X1\0\0\0", "bytes after the block" },
        { "X1\0PNOTIFY=NEVER\0\0", "P before R" },
        { "X1\0R0\0MSIZE=1\0\0", "M after R" },
        { "X1\0R1\0R0\0\0", "indexes out of order" },
        { "X1\0R0\0R0\0\0", "index repeated" },
        { "X1\0R3\0\0", "index beyond the 3 recipients" },
        { "X1\0Rx\0\0", "index not a number" },
        { "X1\0R\0\0", "empty index" },
        { "X1\0R01\0\0", "index with a leading zero (would not round-trip)" },
        { "X1\0MSIZE=1\rX\0\0", "CR in value" },
        { "X1\0MSIZE=1\nX\0\0", "LF in value" },
        { "X1\0MSIZE=a b\0\0", "space in value" },
        { "X1\0MSIZE=\x7f\0\0", "DEL in value" },
        { "X1\0M=1\0\0", "empty keyword" },
        { "X1\0M-SIZE=1\0\0", "keyword starting with hyphen" },
        { "X1\0MSI_ZE=1\0\0", "underscore in keyword" },
        { "X1\0MSIZE=1\0MSIZE=2\0\0", "parameter twice" },
        { "X1\0MSIZE=1\0Msize=2\0\0", "parameter twice, other case" },
        { "X1\0M\xe9=1\0\0", "8-bit keyword" },
    };

    [Theory, MemberData(nameof(BadBlocks))]
    public void Refuses_malformed_blocks(string block, string why)
    {
        var act = () => EnvelopeExtensionCodec.Decode(B(block), 3);
        act.Should().Throw<EnvelopeExtensionException>(why);
    }

    [Fact]
    public void Value_limit_is_1002_bytes()
    {
        var ok = "X1\0MENVID=" + new string('a', 1002) + "\0\0";
        EnvelopeExtensionCodec.Decode(B(ok)).Sender.Single().Value!.Length.Should().Be(1002);
        var act = () => EnvelopeExtensionCodec.Decode(B("X1\0MENVID=" + new string('a', 1003) + "\0\0"));
        act.Should().Throw<EnvelopeExtensionException>();
    }

    [Theory]
    [InlineData("SIZE", "1\r\n", false)]
    [InlineData("SIZE", "1\n", false)]
    [InlineData("SIZE", "12", true)]
    [InlineData("NOTIFY", "SUCCESS,DELAY", true)]
    [InlineData("BAD KEY", "1", false)]
    public void Encoder_checks_every_value_before_writing(string keyword, string value, bool ok)
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of(keyword, value));
        var act = () => EnvelopeExtensionCodec.Encode(ext);
        if (ok) act.Should().NotThrow(); else act.Should().Throw<EnvelopeExtensionException>();
    }

    [Fact]
    public void Nul_in_a_value_cannot_be_encoded()
    {
        var ext = new EnvelopeExtension();
        ext.ForRecipient(0).Add(new EsmtpParameter("ORCPT", B("rfc822;a\0b")));
        var act = () => EnvelopeExtensionCodec.Encode(ext);
        act.Should().Throw<EnvelopeExtensionException>();
    }

    [Theory]
    [InlineData("", -1)]
    [InlineData("Y1\0\0", -1)]
    [InlineData("X1\0", -1)]
    [InlineData("X1\0\0", 4)]
    [InlineData("X1\0MA\0\0rest", 7)]
    public void Block_length_finds_the_terminating_empty_record(string data, int length) =>
        EnvelopeExtensionCodec.BlockLength(B(data)).Should().Be(length);
}
