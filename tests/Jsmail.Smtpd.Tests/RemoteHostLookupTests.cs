using System.Text;
using Jsmail.SmtpServer;

namespace Jsmail.Smtpd.Tests;

/// <summary>How server mode spells a PTR name for TCPREMOTEHOST, as tcpserver (djbdns's dns_name) does.</summary>
public sealed class RemoteHostLookupTests
{
    [Theory]
    [InlineData("Client.Example.", "client.example")]
    [InlineData("mx-1_a.example", "mx-1_a.example")]
    [InlineData("bad name\n.example.", "bad\\040name\\012.example")]
    [InlineData("semi;colon=x.example", "semi\\073colon\\075x.example")]
    public void Names_come_in_lower_case_without_the_root_dot_and_other_bytes_in_octal(string answer, string spelled) =>
        Encoding.ASCII.GetString(RemoteHostLookup.Spell(answer)!).Should().Be(spelled);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    public void No_name_is_no_name(string? answer) => RemoteHostLookup.Spell(answer).Should().BeNull();

    [Fact]
    public void A_name_longer_than_dns_allows_is_no_name() =>
        RemoteHostLookup.Spell(new string('a', 300) + ".example").Should().BeNull();
}
