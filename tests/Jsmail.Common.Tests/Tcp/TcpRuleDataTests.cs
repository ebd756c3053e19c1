using Jsmail.Common.Tcp;
using static Jsmail.Common.Tests.Latin1;
using static Jsmail.Common.Tests.Tcp.TcpRuleTestText;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>
/// A rule's data items as tcpserver reads them, including what tcprules never
/// writes (seen with the real tcpserver on hand-made records).
/// </summary>
public class TcpRuleDataTests
{
    [Theory]
    [InlineData("", true, "")]
    [InlineData("D\0", false, "")]
    [InlineData("+A=1\0D\0+B=2\0", false, "A=1")]
    [InlineData("+A=1\0+A=2\0", true, "A=1|A=2")]
    [InlineData("+RELAYCLIENT=\0", true, "RELAYCLIENT=")]
    [InlineData("+A=x=y\0", true, "A=x=y")]
    [InlineData("+NAME\0+B=\0", true, "B=")] // "+NAME" without "=" is no unset: tcpserver ignores it
    [InlineData("+=v\0", true, "=v")] // an empty name: tcpserver puts "=v" in the environment
    [InlineData("Xjunk\0\0+C=1\0", true, "C=1")] // unknown and empty items are skipped
    [InlineData("+C=1\0+D=2", true, "C=1")] // an unterminated last item is ignored
    [InlineData("D", true, "")]
    public void Items_are_NUL_terminated_denies_and_assignments(string data, bool allowed, string assignments)
    {
        var d = TcpRules.Parse("k"u8.ToArray(), Bytes(data));

        d.Allowed.Should().Be(allowed);
        string.Join('|', d.Assignments.Select(a => Text(a.Entry))).Should().Be(assignments);
        Text(d.Rule!).Should().Be("k");
    }

    [Fact]
    public void Host_rules_compare_bytes_without_folding_case()
    {
        var lookup = Lookup(new() { ["=Mail.Example"] = "D\0", ["=.example"] = "+S=1\0" });

        TcpRules.Decide(lookup, "192.0.2.1"u8, "Mail.Example"u8.ToArray(), null).Allowed.Should().BeFalse();
        Text(TcpRules.Decide(lookup, "192.0.2.1"u8, "mail.example"u8.ToArray(), null).Rule!).Should().Be("=.example");
    }
}
