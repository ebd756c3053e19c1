using System.Text;
using Jsmail.Common.Dkim;
using Jsmail.Common.Message;

namespace Jsmail.DkimSign.Tests;

/// <summary>Which fields are signed, which key signs, and what the signature field looks like.</summary>
public class SelectionTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(IEnumerable<byte> b) => Encoding.Latin1.GetString(b.ToArray());
    private static List<HeaderField> Fields(byte[] header) => HeaderField.ReadAll(header, HeaderLineEnds.LfCrlfOrCr);

    [Fact]
    public void Every_instance_is_signed_and_from_is_oversigned()
    {
        var fields = Fields(B("Received: x\nFrom: a@b\nTo: c@d\nTo: e@f\nSubject: s\nX-Other: o\nDate: d\nMessage-ID: <m@b>\n\n"));
        var h = SignedHeaders.Choose(fields);
        h.Should().Equal("from", "from", "reply-to", "subject", "subject", "date", "date", "message-id", "message-id",
            "to", "to", "to", "cc");
        h.Should().NotContain(["received", "x-other"]);
    }

    [Fact]
    public void Each_name_takes_the_last_unused_field_and_a_name_with_none_left_adds_nothing()
    {
        var fields = Fields(B("To: first\nFrom: a@b\nTo:  second \n\n"));
        S(SignedHeaders.Canonical(fields, ["to", "from", "to", "to", "from"]))
            .Should().Be("to:second\r\nfrom:a@b\r\nto:first\r\n");
    }

    [Theory]
    [InlineData("From: a@Example.COM", "example.com")]
    [InlineData("From: Alice <alice@example.com>", "example.com")]
    [InlineData("From: \"Bob <bob@evil.test>\" <bob@example.com>", "example.com")]
    [InlineData("From: \"x@evil.test\" <y@example.com>", "example.com")]
    [InlineData("From: y@example.com (Not <me@evil.test>)", "example.com")]
    [InlineData("From: a@example.com, b@other.test", "example.com")]
    [InlineData("From: Group: c@example.com;", "example.com")]
    [InlineData("From: <a@example.com.>", "example.com")]
    [InlineData("From: nobody", null)]
    [InlineData("From: <>", null)]
    [InlineData("From: x@", null)]
    [InlineData("FROM:a@ex\xe4mple.test", "ex\xe4mple.test")]
    public void The_author_domain(string field, string? expected)
    {
        var fields = Fields(B(field + "\n\n"));
        var domain = AuthorDomain.OfFromField(fields[0]);
        (domain == null ? null : S(domain)).Should().Be(expected);
    }

    [Fact]
    public void A_folded_from_field_is_read_whole()
    {
        var fields = Fields(B("From: A very long display name\n <someone@folded.example>\n\n"));
        S(AuthorDomain.OfFromField(fields[0])!).Should().Be("folded.example");
    }

    [Theory]
    [InlineData("example.com", "example.com", "s1", "keys/example.pem")]
    [InlineData("EXAMPLE.com", "EXAMPLE.com", "s1", "keys/example.pem")]
    [InlineData("mail.sub.example.org", "example.org", "s2", "/etc/org.pem")]
    [InlineData("sub.example.org", "sub.example.org", "s3", "sub.pem")]
    [InlineData("example.org", "example.org", "dflt", "default.pem")]
    [InlineData("other.test", "other.test", "dflt", "default.pem")]
    public void Keys_by_domain_suffix_and_default(string domain, string d, string s, string path)
    {
        var table = new KeyTable(new[] { "example.com:s1:keys/example.pem", ".example.org:s2:/etc/org.pem",
            "sub.example.org:s3:sub.pem", ":dflt:default.pem", "broken.test:nokey", "empty.test::x.pem" }.Select(B));
        var key = table.Find(B(domain))!;
        (S(key.Domain), S(key.Selector), S(key.KeyPath)).Should().Be((d, s, path));
    }

    [Theory]
    [InlineData("broken.test")]
    [InlineData("empty.test")]
    [InlineData("example.net")]
    public void No_key_without_a_usable_line(string domain) =>
        new KeyTable(new[] { "broken.test:nokey", "empty.test::x.pem", "example.com:s:k" }.Select(B)).Find(B(domain)).Should().BeNull();

    [Theory]
    [InlineData("From: a@author.test\n", "sender@envelope.test", "author.test")]
    [InlineData("From: a@unkeyed.test\n", "sender@envelope.test", "envelope.test")]
    [InlineData("Subject: no from\n", "sender@envelope.test", "envelope.test")]
    [InlineData("From: a@unkeyed.test\n", "", null)]
    [InlineData("From: a@unkeyed.test\n", null, null)]
    public void The_author_chooses_the_key_then_the_envelope_sender(string header, string? sender, string? expected)
    {
        var table = new KeyTable(new[] { "author.test:a:a.pem", "envelope.test:e:e.pem" }.Select(B));
        var key = KeyChoice.For(table, Fields(B(header + "\n")), sender == null ? null : B(sender));
        (key == null ? null : S(key.Domain)).Should().Be(expected);
    }

    [Fact]
    public void The_signature_field_folds_its_lists_and_signs_itself_with_an_empty_b()
    {
        byte[]? signedData = null;
        var key = new SigningKey(B("example.com"), B("sel"), B("k.pem"));
        var h = Enumerable.Repeat("content-transfer-encoding", 5).ToList();
        var field = S(SignatureField.Build(key, 1700000000, h, new byte[32], B("from:a@b\r\n"),
            data => { signedData = data; return new byte[256]; }, B("\n")));
        var lines = field.Split('\n');
        lines[0].Should().Be("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel;");
        lines[1].Should().StartWith("\tt=1700000000; h=content-transfer-encoding:");
        lines.Should().OnlyContain(l => l.Length <= 78);
        field.Should().Contain("\tbh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;\n\tb=AAAA");
        field.Should().EndWith("\n");
        // unfolded, a fold after a ':' leaves one space
        S(signedData!).Should().Be("from:a@b\r\ndkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; t=1700000000; h="
            + "content-transfer-encoding:content-transfer-encoding: content-transfer-encoding:content-transfer-encoding: "
            + "content-transfer-encoding; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=");
    }
}
