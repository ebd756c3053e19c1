using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Message;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Message;

/// <summary>RFC 6531/6532 decisions: which words stay raw UTF-8, and when a message needs SMTPUTF8.</summary>
public class Utf8MailTests
{
    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData("jösé@x", "jösé@x")]
    [InlineData("JöSé.Ünïcode+tag@x", "JöSé.Ünïcode+tag@x")]
    [InlineData("jö sé@x", "\"jö sé\"@x")] // still quoted for its ASCII space
    [InlineData("jö..sé@x", "\"jö..sé\"@x")]
    [InlineData("ascii@x", "ascii@x")]
    public void A_UTF8_local_part_is_atoms_with_utf8_and_quoted_as_qmail_quotes_it_without(string address, string withUtf8)
    {
        Encoding.UTF8.GetString(AddressQuoting.Quote(U(address), utf8: true)).Should().Be(withUtf8);
        var qmail = AddressQuoting.Quote(U(address));
        if (Utf8Mail.HasNonAscii(U(address))) qmail[0].Should().Be((byte)'"', "qmail quotes every 8-bit local part");
        else qmail.Should().Equal(U(address));
    }

    [Theory]
    [InlineData("j\u00fcrgen@x")]   // Latin-1 ü: one byte 0xFC, no UTF-8
    [InlineData("j\u00c3@x")]       // a lead byte with no continuation
    [InlineData("a\u00c3\u00bcb\u00fc@x")] // UTF-8 ü and a stray Latin-1 ü
    public void Local_parts_that_are_not_UTF8_stay_quoted_either_way(string latin1)
    {
        Text(AddressQuoting.Quote(Bytes(latin1), utf8: true)).Should().StartWith("\"");
        Utf8Mail.IsUtf8Text(Bytes(latin1[..latin1.IndexOf('@')])).Should().BeFalse();
    }

    [Theory]
    [InlineData("a@x", "b@y", "Subject: hi\n", false)]
    [InlineData("jösé@x", "b@y", "Subject: hi\n", true)]
    [InlineData("a@x", "bjørn@y", "Subject: hi\n", true)]
    [InlineData("a@x", "b@y", "From: Jörg <a@x>\n", true)]
    [InlineData("", "b@y", "Subject: Grüße\n", true)]
    public void Needs_SMTPUTF8_for_an_8bit_address_or_a_UTF8_header(string sender, string recipient, string header, bool needs) =>
        Utf8Mail.NeedsSmtpUtf8(U(sender), [U(recipient)], U(header)).Should().Be(needs);

    [Fact]
    public void A_header_in_another_8bit_charset_needs_nothing_new_but_an_8bit_address_still_does()
    {
        Utf8Mail.NeedsSmtpUtf8(U("a@x"), [U("b@y")], Bytes("Subject: caf\u00e9\n")).Should().BeFalse("Latin-1 is no RFC 6532 header");
        Utf8Mail.NeedsSmtpUtf8(Bytes("j\u00fcrgen@x"), [U("b@y")], []).Should().BeTrue("jsmail-remote counts any 8-bit address");
    }

    [Fact]
    public void Marked_adds_SMTPUTF8_once_and_keeps_other_parameters()
    {
        var extension = new EnvelopeExtension();
        extension.Sender.Add(EsmtpParameter.Of("RET", "HDRS"));
        var marked = Utf8Mail.Marked(Utf8Mail.Marked(new QueueEnvelope(U("a@x"), [U("jösé@y")], extension)));
        marked.Extension!.Sender.Select(p => p.Keyword).Should().Equal("RET", "SMTPUTF8");
        Text(Utf8Mail.Marked(new QueueEnvelope(U("a@x"), [U("b@y")])).Encode()).Should().Be("Fa@x\0Tb@y\0\0X1\0MSMTPUTF8\0\0");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void The_header_scan_finds_UTF8_split_across_chunks_and_ignores_the_body(int chunk)
    {
        bool Scan(byte[] message)
        {
            var scan = new Utf8HeaderScan();
            for (var i = 0; i < message.Length; i += chunk) scan.Feed(message.AsSpan(i, Math.Min(chunk, message.Length - i)));
            return scan.IsUtf8Text;
        }
        Scan(U("From: Jörg <a@x>\nSubject: ✓\n\nbody\n")).Should().BeTrue();
        Scan(U("Subject: plain\n\nbody Grüße ✓\n")).Should().BeFalse("8-bit in the body needs only 8BITMIME");
        Scan(Bytes("Subject: caf\u00e9\n\nbody\n")).Should().BeFalse("Latin-1 is not UTF-8");
        Scan([.. U("Subject: Grüße\n"), .. Bytes("X-Old: caf\u00e9\n"), .. U("\nbody\n")]).Should().BeFalse("one invalid byte makes it legacy 8-bit");
    }
}
