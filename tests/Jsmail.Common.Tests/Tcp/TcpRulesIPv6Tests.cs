using Jsmail.Common.Cdb;
using Jsmail.Common.Tcp;
using Jsmail.TestSupport;
using static Jsmail.Common.Tests.Latin1;
using static Jsmail.Common.Tests.Tcp.TcpRuleTestText;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>
/// IPv6 rules. Debian's ucspi-tcp cannot compile them (its tcprules rejects the
/// lines), and ucspi-tcp-ipv6, which can, conflicts with it; so the records are
/// the ones ucspi-tcp-ipv6's tcprules writes for these lines, and each outcome
/// is the one its tcprulescheck gives.
/// </summary>
public class TcpRulesIPv6Tests
{
    // tcprules line -> the record ucspi-tcp-ipv6's tcprules writes: the key ends
    // at the colon before "allow" or "deny", so a prefix ending in ":" is written
    // with "::" before the instructions.
    private static readonly (string Line, string Key, string Data)[] Records =
    [
        ("::1:allow,X=\"loop\"", "::1", "+X=loop\0"),
        ("2001:db8::1:allow,X=\"exact\"", "2001:db8::1", "+X=exact\0"),
        ("2001:db8:::deny", "2001:db8::", "D\0"),
        ("2001:db8::allow,X=\"db8\"", "2001:db8:", "+X=db8\0"),
        ("2001::allow,X=\"2001\"", "2001:", "+X=2001\0"),
        ("fe80::allow,X=\"link\"", "fe80:", "+X=link\0"),
        ("joe@::1:allow,X=\"joe\"", "joe@::1", "+X=joe\0"),
        ("127.:allow,X=\"v4\"", "127.", "+X=v4\0"),
        (":allow,X=\"default\"", "", "+X=default\0"),
    ];

    [Theory]
    [InlineData("::1", null, "rule ::1: X=loop allow")]
    [InlineData("::1", "joe", "rule joe@::1: X=joe allow")]
    [InlineData("2001:db8::1", null, "rule 2001:db8::1: X=exact allow")]
    [InlineData("2001:db8::2", null, "rule 2001:db8::: deny")]
    [InlineData("2001:db8:1::5", null, "rule 2001:db8:: X=db8 allow")]
    [InlineData("2001:dead::1", null, "rule 2001:: X=2001 allow")]
    [InlineData("fe80::1", null, "rule fe80:: X=link allow")]
    [InlineData("127.0.0.1", null, "rule 127.: X=v4 allow")]
    [InlineData("2002::1", null, "rule : X=default allow")]
    [InlineData("::ffff:127.0.0.1", null, "rule : X=default allow")] // never seen: tcpserver unmaps it first
    public void Prefixes_end_in_a_colon_and_are_tried_longest_first(string ip, string? info, string expected)
    {
        using var dir = new TempDir("tcprules6");
        CdbWriter.WriteAtomically(dir["r.cdb"], dir["r.tmp"], w =>
        {
            foreach (var r in Records) w.Add(Bytes(r.Key), Bytes(r.Data));
        });
        using var rules = TcpRules.Open(dir["r.cdb"], allowMissing: false);

        var d = rules.Decide(Bytes(ip), null, info == null ? null : Bytes(info));

        Summary(d).Should().Be(expected);
    }

    [Fact]
    public void A_single_colon_is_a_prefix_of_every_compressed_leading_zero_address()
    {
        var lookup = Lookup(new() { [":"] = "+K=colon\0", ["2001:"] = "+K=p\0" });

        Text(TcpRules.Decide(lookup, "::1"u8, null, null).Rule!).Should().Be(":");
        Text(TcpRules.Decide(lookup, "2001:db8::1"u8, null, null).Rule!).Should().Be("2001:");
        TcpRules.Decide(lookup, "1.2.3.4"u8, null, null).Should().BeSameAs(TcpRuleDecision.NoRule);
    }

    [Fact]
    public void An_address_is_looked_up_as_tcpserver_spells_it()
    {
        using var dir = new TempDir("tcprules6");
        CdbWriter.WriteAtomically(dir["r.cdb"], dir["r.tmp"], w =>
        {
            w.Add(Bytes("2001:db8::1:0:0:1"), Bytes("D\0"));
            w.Add(Bytes("192.0.2."), Bytes("+V4=1\0"));
        });
        using var rules = TcpRules.Open(dir["r.cdb"], allowMissing: false);

        rules.Decide(System.Net.IPAddress.Parse("2001:0db8:0000:0000:0001:0000:0000:0001"), null, null).Allowed.Should().BeFalse();
        Summary(rules.Decide(System.Net.IPAddress.Parse("::ffff:192.0.2.9"), null, null)).Should().Be("rule 192.0.2.: V4=1 allow");
    }
}
