using System.Text;
using Jsmail.Common.Smtp.Hooks;
using Jsmail.Common.Smtp.Policy;
using Jsmail.TestSupport;

namespace Jsmail.Common.Tests.Smtp;

/// <summary>The policy client against a scripted service on loopback, blocking and awaited: reuse, limits, retry, failures.</summary>
public sealed class PolicyClientTests
{
    private static readonly byte[] Request = PolicyRequest.Build(new PolicyFacts("RCPT") { Recipient = "bob@example.com"u8.ToArray() });

    private static PolicyClient Client(ScriptedPolicyServer server, string settings = "") =>
        new(PolicyService.Parse(Encoding.ASCII.GetBytes(server.Endpoint + " " + settings), "/", out _)!);

    private static PolicyAnswer Ask(PolicyClient client, bool async) =>
        async ? client.AskAsync(Request, CancellationToken.None).AsTask().GetAwaiter().GetResult() : client.Ask(Request);

    [Theory, InlineData(false), InlineData(true)]
    public void One_connection_serves_request_after_request(bool async)
    {
        using var server = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("REJECT no"));
        var client = Client(server);
        for (var i = 0; i < 3; i++) Ask(client, async).Verdict!.Decision.Should().Be(HookDecision.Reject);
        server.Connections.Should().Be(1);
        server.Requests.Should().HaveCount(3);
        server.Requests[0]["recipient"].Should().Be("bob@example.com");
    }

    [Theory, InlineData(false), InlineData(true)]
    public void The_request_limit_and_max_ttl_end_a_kept_connection(bool async)
    {
        using var limited = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("OK"));
        var client = Client(limited, "request_limit=2");
        for (var i = 0; i < 4; i++) Ask(client, async).Verdict!.Decision.Should().Be(HookDecision.Accept);
        limited.Connections.Should().Be(2);

        using var young = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("OK"));
        var once = Client(young, "max_ttl=0");
        for (var i = 0; i < 3; i++) Ask(once, async).Verdict!.Decision.Should().Be(HookDecision.Accept);
        young.Connections.Should().Be(3);
    }

    [Theory, InlineData(false), InlineData(true)]
    public void A_kept_connection_the_service_closed_is_retried_once_on_a_new_one(bool async)
    {
        using var server = new ScriptedPolicyServer(_ => ScriptedPolicyServer.Answer("DUNNO"), closeAfterEachAnswer: true);
        var client = Client(server);
        for (var i = 0; i < 3; i++) Ask(client, async).Verdict.Should().Be(HookVerdict.Continue);
        server.Connections.Should().Be(3);
        server.Requests.Should().HaveCount(3, "each retry reached the service once");
    }

    [Theory, InlineData(false), InlineData(true)]
    public void A_service_that_closes_hangs_or_talks_nonsense_gives_no_verdict(bool async)
    {
        using var closing = new ScriptedPolicyServer(_ => "");
        Ask(Client(closing), async).Should().Be(PolicyAnswer.Failed("closed the connection without an answer"));

        using var dying = new ScriptedPolicyServer(_ => "action=OK\n");
        Ask(Client(dying), async).Failure.Should().Be("closed the connection in mid-answer");

        using var garbage = new ScriptedPolicyServer(_ => "hello there\n\n");
        Ask(Client(garbage), async).Failure.Should().Be("answer not understood");

        using var hung = new ScriptedPolicyServer(_ => null);
        Ask(Client(hung, "timeout=1"), async).Failure.Should().Be("no answer within 1 seconds");

        var port = Ports.Free();
        var nobody = new PolicyClient(PolicyService.Parse(Encoding.ASCII.GetBytes($"inet:127.0.0.1:{port}"), "/", out _)!);
        Ask(nobody, async).Failure.Should().StartWith("cannot connect: ");
    }

    [Fact]
    public void The_sessions_own_deadline_is_not_the_services()
    {
        using var hung = new ScriptedPolicyServer(_ => null);
        using var session = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var ask = () => Client(hung, "timeout=30").AskAsync(Request, session.Token).AsTask().GetAwaiter().GetResult();
        ask.Should().Throw<OperationCanceledException>("the driver handles its session's deadline itself");
    }
}
