using System.Text;
using Jsmail.Common.Control;
using Jsmail.Remote;

namespace Jsmail.Remote.Tests;

public class TlsPolicyTests
{
    [Theory]
    [InlineData("", "x.test", "Opportunistic", null)]
    [InlineData("x.test:require", "x.test", "Require", null)]
    [InlineData("x.test:require", "y.x.test", "Opportunistic", null)]
    [InlineData(".x.test:verify", "y.x.test", "Verify", null)]
    [InlineData(".x.test:verify:/etc/ca.pem\nx.test:off", "x.test", "Off", null)]
    [InlineData(".x.test:verify:/etc/ca.pem", "a.b.x.test", "Verify", "/etc/ca.pem")]
    [InlineData(":require\nx.test:opportunistic", "x.test", "Opportunistic", null)]
    [InlineData(":require", "other.test", "Require", null)]
    [InlineData("x.test:VERIFY", "X.TEST", "Verify", null)]
    [InlineData("x.test:requir", "x.test", "Verify", null)]
    [InlineData("x.test:", "x.test", "Opportunistic", null)]
    public void Looks_up_like_smtproutes_and_an_unknown_word_verifies(string file, string host, string mode, string? ca)
    {
        var map = new ControlMap(file.Split('\n').Where(l => l.Length > 0).Select(Encoding.ASCII.GetBytes));
        var policy = TlsPolicy.For(map, Encoding.ASCII.GetBytes(host));
        policy.Mode.ToString().Should().Be(mode);
        policy.CaFile.Should().Be(ca);
    }
}

public class CredentialsTests
{
    [Theory]
    [InlineData("relay.test:u:p", "relay.test", "u", "p", false)]
    [InlineData("RELAY.test:u:p:with:colons", "relay.TEST", "u", "p:with:colons", false)]
    [InlineData("!relay.test:u:p", "relay.test", "u", "p", true)]
    [InlineData("relay.test:u:p\nrelay.test:v:q", "relay.test", "v", "q", false)]
    [InlineData("relay.test:u:", "relay.test", "u", "", false)]
    [InlineData("relay.test:nopassword", "relay.test", null, null, false)]
    [InlineData("other.test:u:p", "relay.test", null, null, false)]
    [InlineData("relay.test.evil:u:p", "relay.test", null, null, false)]
    [InlineData("[IPv6:2001:db8::1]:u:p:q", "[ipv6:2001:DB8::1]", "u", "p:q", false)]
    [InlineData("[192.0.2.1]:u:p", "[192.0.2.1]", "u", "p", false)]
    public void Reads_relay_user_password_lines(string file, string relay, string? user, string? password, bool withoutTls)
    {
        var c = Credentials.For(file.Split('\n').Select(Encoding.ASCII.GetBytes), Encoding.ASCII.GetBytes(relay));
        if (user == null) { c.Should().BeNull(); return; }
        c.Should().NotBeNull();
        Encoding.ASCII.GetString(c!.User).Should().Be(user);
        Encoding.ASCII.GetString(c.Password).Should().Be(password);
        c.WithoutTls.Should().Be(withoutTls);
        c.ToString().Should().NotContain(password!.Length > 0 ? password : "\0");
    }

    [Fact]
    public void Plain_response_is_rfc4616()
    {
        var c = new Credentials("tim"u8.ToArray(), "tanstaaftanstaaf"u8.ToArray(), false);
        c.PlainResponse().Should().Be("AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    }
}

public class DeliveryParametersTests
{
    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("RET=HDRS ENVID=x", "RET=HDRS|ENVID=x")]
    [InlineData("  SMTPUTF8   NOTIFY=NEVER ", "SMTPUTF8|NOTIFY=NEVER")]
    [InlineData("RET=HDRS ret=FULL", "RET=HDRS")]
    [InlineData("-BAD=1 GOOD=2 AL\u00e9=3", "GOOD=2")]
    [InlineData("ORCPT=utf-8;j\u00f6rg@x KEY=", "ORCPT=utf-8;j\u00f6rg@x|KEY=")]
    [InlineData("X=a\u0001b Y=\u007f Z=ok", "Z=ok")]
    public void Parses_keyword_value_words(string? text, string expected) =>
        string.Join("|", DeliveryParameters.Parse(text).Select(p => p.Keyword + (p.ValueText is { } v ? "=" + v : "")))
            .Should().Be(expected);

    [Theory]
    [InlineData("NOTIFY=NEVER ORCPT=rfc822;a@b RET=FULL", " NOTIFY=NEVER ORCPT=rfc822;a@b")]
    [InlineData("orcpt=rfc822;a@b notify=success", " NOTIFY=success ORCPT=rfc822;a@b")]
    [InlineData("RET=FULL", "")]
    public void Words_keeps_the_named_keywords_in_order(string text, string expected) =>
        DeliveryParameters.Words(DeliveryParameters.Parse(text), "NOTIFY", "ORCPT").Should().Be(expected);
}
