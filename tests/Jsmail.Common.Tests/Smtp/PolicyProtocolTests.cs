using System.Text;
using Jsmail.Common.Smtp;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Tests.Smtp;

/// <summary>The pure parts of the Postfix policy client: control lines, the request, the answer.</summary>
public sealed class PolicyProtocolTests
{
    [Fact]
    public void A_control_line_names_the_socket_and_its_settings()
    {
        var s = PolicyService.Parse("inet:127.0.0.1:10023 stages=rcpt,DATA,end-of-message timeout=5 default=dunno max_idle=10 max_ttl=20s request_limit=3"u8,
            "/var/qmail", out var problem)!;
        problem.Should().BeNull();
        s.Endpoint.Should().Be(new FilterEndpoint("inet:127.0.0.1:10023", null, "127.0.0.1", 10023));
        s.Stages.Should().Be(PolicyStages.Rcpt | PolicyStages.Data | PolicyStages.EndOfMessage);
        s.Timeout.Should().Be(TimeSpan.FromSeconds(5));
        s.Fallback.Should().Be(PolicyFallback.Dunno);
        s.MaxIdle.Should().Be(TimeSpan.FromSeconds(10));
        s.MaxTtl.Should().Be(TimeSpan.FromSeconds(20));
        s.RequestLimit.Should().Be(3);

        var unix = PolicyService.Parse("unix:run/postgrey.sock"u8, "/var/qmail", out _)!;
        unix.Endpoint.UnixPath.Should().Be("/var/qmail/run/postgrey.sock", "a relative path is under the home");
        unix.Stages.Should().Be(PolicyStages.Rcpt, "RCPT unless told otherwise");
        unix.Timeout.Should().Be(TimeSpan.FromSeconds(100), "Postfix's smtpd_policy_service_timeout");
        unix.Fallback.Should().Be(PolicyFallback.Tempfail);
        PolicyService.Parse("inet:[::1]:9998"u8, "/h", out _)!.Endpoint.Host.Should().Be("::1");
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:1")]
    [InlineData("inet:127.0.0.1")]
    [InlineData("inet:127.0.0.1:0")]
    [InlineData("unix:")]
    [InlineData("inet:127.0.0.1:10023 stages=vrfy")]
    [InlineData("inet:127.0.0.1:10023 timeout=0")]
    [InlineData("inet:127.0.0.1:10023 default=reject")]
    [InlineData("inet:127.0.0.1:10023 colour=blue")]
    public void A_line_not_understood_is_refused_with_the_reason(string line)
    {
        PolicyService.Parse(Encoding.ASCII.GetBytes(line), "/h", out var problem).Should().BeNull();
        problem.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void The_request_carries_postfixs_attributes_one_a_line_and_ends_with_an_empty_line()
    {
        var request = Encoding.ASCII.GetString(PolicyRequest.Build(new PolicyFacts("RCPT")
        {
            ProtocolName = "ESMTP", HeloName = "c.example"u8.ToArray(), Sender = "s@x.example"u8.ToArray(),
            Recipient = "bob@example.com\nsize=1"u8.ToArray(), ClientAddress = "192.0.2.1"u8.ToArray(),
            Instance = "1f.2", SaslUsername = "alice"u8.ToArray(), Size = 1234, EncryptionProtocol = "TLSv1.3",
        }));
        request.Should().StartWith("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=c.example\n");
        request.Should().EndWith("\n\n");
        var lines = request.TrimEnd('\n').Split('\n');
        lines.Should().Contain(["sender=s@x.example", "recipient=bob@example.com?size=1", "client_address=192.0.2.1",
            "client_name=unknown", "reverse_client_name=unknown", "instance=1f.2", "sasl_username=alice", "size=1234",
            "encryption_protocol=TLSv1.3", "recipient_count=0", "queue_id="]);
        lines.Select(l => l[..l.IndexOf('=')]).Should().OnlyHaveUniqueItems();
    }

    public static TheoryData<string, HookDecision, int, string?, string?> Actions => new()
    {
        { "OK", HookDecision.Accept, 0, null, null },
        { "ok", HookDecision.Accept, 0, null, null },
        { "123", HookDecision.Accept, 0, null, null },
        { "DUNNO", HookDecision.Continue, 0, null, null },
        { "REJECT", HookDecision.Reject, 554, "5.7.1", "Access denied" },
        { "REJECT go away", HookDecision.Reject, 554, "5.7.1", "go away" },
        { "DEFER try later", HookDecision.Defer, 450, "4.7.1", "try later" },
        { "DEFER_IF_PERMIT Greylisted, see http://x/y.html", HookDecision.DeferIfPermit, 450, "4.7.1", "Greylisted, see http://x/y.html" },
        { "defer_if_reject maybe", HookDecision.DeferIfReject, 450, "4.7.1", "maybe" },
        { "550 5.1.1 no such user", HookDecision.Reject, 550, "5.1.1", "no such user" },
        { "451 5.3.0 class mended", HookDecision.Defer, 451, "4.3.0", "class mended" },
        { "452 no room", HookDecision.Defer, 452, "4.7.1", "no room" },
        { "421 4.4.2 bye", HookDecision.Disconnect, 421, "4.4.2", "bye" },
        { "521 go", HookDecision.Disconnect, 521, "5.7.1", "go" },
        { "WARN odd client", HookDecision.Continue, 0, null, null },
        { "INFO noted", HookDecision.Continue, 0, null, null },
        { "HOLD suspicious", HookDecision.Continue, 0, null, "suspicious" },
        { "DISCARD spam", HookDecision.Accept, 0, null, null },
        { "PREPEND X-Greylist: delayed 3 seconds", HookDecision.Continue, 0, null, null },
        { "PREPEND not a header", HookDecision.Continue, 0, null, null },
        { "REDIRECT a@b", HookDecision.Continue, 0, null, null },
        { "FROBNICATE", HookDecision.Defer, 451, "4.3.5", "Server configuration error" },
    };

    [Theory]
    [MemberData(nameof(Actions))]
    public void Each_action_maps_into_a_verdict_as_postfix_reads_it(string action, HookDecision decision, int code, string? enhanced, string? text)
    {
        var v = PolicyReply.Parse(Encoding.ASCII.GetBytes("action=" + action + "\n\n"))!;
        v.Decision.Should().Be(decision);
        v.Code.Should().Be(code);
        v.Enhanced.Should().Be(enhanced);
        (v.Text == null ? null : Encoding.ASCII.GetString(v.Text)).Should().Be(text);
    }

    [Fact]
    public void Side_effects_and_log_lines_come_with_the_verdict()
    {
        PolicyReply.Action("PREPEND X-Greylist: delayed 3 seconds").PrependHeader.Should().Equal("X-Greylist: delayed 3 seconds"u8.ToArray());
        PolicyReply.Action("PREPEND not a header").PrependHeader.Should().BeNull();
        PolicyReply.Action("PREPEND not a header").Log.Should().Contain("not a header line");
        PolicyReply.Action("DISCARD spam").Discard.Should().BeTrue();
        PolicyReply.Action("HOLD suspicious").Hold.Should().BeTrue();
        PolicyReply.Action("WARN odd client").Log.Should().Be("WARN odd client");
        PolicyReply.Action("FROBNICATE").Log.Should().Contain("unknown action FROBNICATE");
    }

    [Fact]
    public void An_answer_is_whole_at_its_empty_line_and_needs_an_action()
    {
        PolicyReply.Complete("action=OK\n"u8).Should().Be(-1);
        PolicyReply.Complete("action=OK\n\nmore"u8).Should().Be(11);
        PolicyReply.Parse("other=1\naction=REJECT x\naction=OK\n\n"u8)!.Decision.Should().Be(HookDecision.Reject, "the first action counts");
        PolicyReply.Parse("hello\n\n"u8).Should().BeNull();
        var v = PolicyReply.Parse("action=REJECT bad\u0007\r byte\n\n"u8)!;
        Encoding.ASCII.GetString(v.Text!).Should().Be("bad?? byte", "nothing unprintable reaches a reply");
    }
}
