using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Remote;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>How a message's REQUIRETLS or TLS-Required header changes a destination's TLS rule (MessageTls.cs).</summary>
public class MessageTlsUnitTests
{
    public static TheoryData<string, MessageTls, string> Rules => new()
    {
        // control/tlsdestinations' rule, the message's wish, the rule used ("mode ca")
        { "", MessageTls.RequireTls, "Verify " },
        { "off", MessageTls.RequireTls, "Verify " },
        { "require", MessageTls.RequireTls, "Verify " },
        { "verify:/ca.pem", MessageTls.RequireTls, "Verify /ca.pem" },
        { "verify:/ca.pem", MessageTls.Optional, "Opportunistic " },
        { "require", MessageTls.Optional, "Opportunistic " },
        { "off", MessageTls.Optional, "Off " },
        { "", MessageTls.Optional, "Opportunistic " },
        { "verify:/ca.pem", MessageTls.Default, "Verify /ca.pem" },
    };

    [Theory, MemberData(nameof(Rules))]
    public void The_message_changes_the_rule(string rule, MessageTls demand, string expected)
    {
        var map = new Jsmail.Common.Control.ControlMap(rule.Length == 0 ? [] : [Encoding.ASCII.GetBytes("x.test:" + rule)]);
        var policy = MessageTlsDemand.Apply(TlsPolicy.For(map, "x.test"u8), demand);
        $"{policy.Mode} {policy.CaFile}".Should().Be(expected);
    }

    public static TheoryData<string, bool> Headers => new()
    {
        { "TLS-Required: No\n\nbody\n", true },
        { "Subject: x\ntls-required:no\r\n\r\n", true },
        { "Subject: x\nTLS-Required:\n  No\n\n", true },
        { "TLS-Required: Yes\n\n", false },
        { "Subject: x\n\nTLS-Required: No\n", false },
        { "X-TLS-Required: No\n\n", false },
        { "", false },
    };

    [Theory, MemberData(nameof(Headers))]
    public void Only_a_header_field_saying_no_counts(string message, bool no)
    {
        using var dir = new TempDir("jsmail-tlsrequired");
        File.WriteAllText(dir["m"], message);
        var fd = Libc.Open(dir["m"], Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        try
        {
            MessageTlsDemand.SaysTlsNotRequired(new MessageSource(fd)).Should().Be(no);
            Libc.Lseek(fd, 0, 1).Should().Be(0, "the message is left where it was, to be sent whole");
        }
        finally { Libc.Close(fd); }
    }

    [Fact]
    public void A_header_past_the_read_limit_is_not_searched()
    {
        using var dir = new TempDir("jsmail-tlsrequired");
        File.WriteAllText(dir["m"], "X-Long: " + new string('a', MessageTlsDemand.HeaderLimit) + "\nTLS-Required: No\n\n");
        var fd = Libc.Open(dir["m"], Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        try { MessageTlsDemand.SaysTlsNotRequired(new MessageSource(fd)).Should().BeFalse(); }
        finally { Libc.Close(fd); }
    }
}
