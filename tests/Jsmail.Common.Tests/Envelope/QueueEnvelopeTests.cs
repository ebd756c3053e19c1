using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Tests.Envelope;

public class QueueEnvelopeTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void Plain_envelope_is_qmails_byte_for_byte()
    {
        var env = new QueueEnvelope(B("a@x.example"), [B("b@y.example"), B("c@z.example")]);
        Encoding.Latin1.GetString(env.Encode()).Should().Be("Fa@x.example\0Tb@y.example\0Tc@z.example\0\0");
    }

    [Fact]
    public void Null_sender_and_no_recipients()
    {
        Encoding.Latin1.GetString(new QueueEnvelope([], []).Encode()).Should().Be("F\0\0");
    }

    [Fact]
    public void Empty_extension_adds_nothing()
    {
        var env = new QueueEnvelope(B("a"), [B("b")], new EnvelopeExtension());
        Encoding.Latin1.GetString(env.Encode()).Should().Be("Fa\0Tb\0\0");
    }

    [Fact]
    public void Extension_follows_the_final_nul_and_decodes_back()
    {
        var ext = new EnvelopeExtension();
        ext.ForRecipient(1).Add(EsmtpParameter.Of("NOTIFY", "NEVER"));
        var bytes = new QueueEnvelope(B("a"), [B("b"), B("c")], ext).Encode();
        Encoding.Latin1.GetString(bytes).Should().Be("Fa\0Tb\0Tc\0\0X1\0R1\0PNOTIFY=NEVER\0\0");
        var back = QueueEnvelope.Decode(bytes);
        back.Recipients.Select(r => Encoding.Latin1.GetString(r)).Should().Equal("b", "c");
        back.Extension!.ParametersOf(1).Single().ValueText.Should().Be("NEVER");
    }

    [Fact]
    public void Nul_in_an_address_is_refused()
    {
        var act = () => new QueueEnvelope(B("a\0b"), []).Encode();
        act.Should().Throw<ArgumentException>();
    }
}
