namespace Jsmail.Remote.Tests;

/// <summary>RFC 8461's formats: the TXT record (§3.1), the policy file (§3.2) and MX matching (§4.1).</summary>
public class MtaStsUnitTests
{
    [Theory]
    [InlineData("v=STSv1; id=20160831085700Z;", "20160831085700Z")]
    [InlineData("v=STSv1;id=abc", "abc")]
    [InlineData("v=STSv1; ext=1; id=x9", "x9")]
    [InlineData("v=STSv1; id=", null)]
    [InlineData("v=STSv1; id=a-b", null)] // letters and digits only
    [InlineData("v=STSv1; id=123456789012345678901234567890123", null)] // 33 characters
    [InlineData("v=STSv1; id=a; id=b", null)]
    [InlineData("v=STSv1", null)]
    [InlineData("v=STSv2; id=a", null)]
    [InlineData("v=spf1 -all", null)]
    public void The_txt_record_gives_its_id(string record, string? id) =>
        MtaStsPolicy.RecordId([record]).Should().Be(id);

    [Fact]
    public void Records_that_are_not_mta_sts_are_set_aside_and_two_that_are_mean_none()
    {
        MtaStsPolicy.RecordId(["v=spf1 -all", "v=STSv1; id=one"]).Should().Be("one");
        MtaStsPolicy.RecordId(["v=STSv1; id=one", "v=STSv1; id=two"]).Should().BeNull();
        MtaStsPolicy.RecordId([]).Should().BeNull();
    }

    [Fact]
    public void A_policy_parses_with_lf_or_crlf_and_ignores_unknown_keys()
    {
        var p = MtaStsPolicy.Parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\nfuture: thing\r\n", out var why);
        why.Should().BeEmpty();
        p!.Mode.Should().Be(MtaStsMode.Enforce);
        p.Mx.Should().Equal("mail.example.com", "*.example.net");
        p.MaxAge.Should().Be(604800);
        MtaStsPolicy.Parse("version: STSv1\nmode: testing\nmx: a.test\nmax_age: 1\n", out _)!.Mode.Should().Be(MtaStsMode.Testing);
        MtaStsPolicy.Parse("version: STSv1\nmode: none\nmax_age: 86400\n", out _)!.Mode.Should().Be(MtaStsMode.None, "none needs no mx");
    }

    [Theory]
    [InlineData("mode: enforce\nmx: a.test\nmax_age: 1\n", "no version")]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n", "version is not STSv1")]
    [InlineData("version: STSv1\nmode: report\nmx: a.test\nmax_age: 1\n", "mode is not enforce, testing or none")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.test\n", "max_age is not a number of at most 10 digits")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 12345678901\n", "max_age is not a number of at most 10 digits")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n", "max_age is not a number of at most 10 digits")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx pattern")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.*.test\nmax_age: 1\n", "an mx pattern is not a host name")]
    [InlineData("version: STSv1\nmode: enforce\nmode: none\nmx: a.test\nmax_age: 1\n", "mode is given twice")]
    [InlineData("<html>version: STSv1</html>\n", "a key has characters a key cannot have")]
    [InlineData("version STSv1\n", "a line is not \"key: value\"")]
    public void A_bad_policy_is_no_policy(string text, string reason)
    {
        MtaStsPolicy.Parse(text, out var why).Should().BeNull();
        why.Should().Be(reason);
    }

    [Fact]
    public void Max_age_is_held_to_a_year() =>
        MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 9999999999\n", out _)!.MaxAge.Should().Be(31557600);

    [Theory]
    [InlineData("mail.example.com", true)]
    [InlineData("MAIL.Example.COM.", true)]
    [InlineData("mx1.example.net", true)]
    [InlineData("example.net", false)] // the wildcard stands for one label
    [InlineData("a.b.example.net", false)]
    [InlineData("other.example.com", false)]
    [InlineData("xexample.net", false)]
    public void Mx_patterns_match_as_the_rfc_says(string host, bool matches) =>
        new MtaStsPolicy(MtaStsMode.Enforce, ["mail.example.com", "*.example.net"], 1).Matches(host).Should().Be(matches);
}
