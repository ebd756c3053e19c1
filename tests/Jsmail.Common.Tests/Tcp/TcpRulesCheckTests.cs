using System.Text;
using Jsmail.Common.Tcp;
using Jsmail.TestSupport;
using static Jsmail.Common.Tests.Latin1;
using static Jsmail.Common.Tests.Tcp.TcpRuleTestText;

namespace Jsmail.Common.Tests.Tcp;

/// <summary>The rules file the real tcprules builds, once for the class.</summary>
public sealed class TcprulesFixture : IDisposable
{
    public const string Rules = """
        # every kind of rule tcpserver knows
        joe@127.0.0.1:allow,WHO="joe"
        bob@=host.example.com:allow,WHO="bob at host"
        18.23.0.32:deny
        9.8.7.6:deny,X="after deny"
        127.0.0.1:allow,RELAYCLIENT="",TCPLOCALHOST="movie.edu"
        10.0.:allow,RELAYCLIENT=/@fix.me/,DATABYTES="1000"
        10.:allow,X="ten"
        =Host.Example.COM:allow,X="host"
        =.example.com:allow,X="suffix"
        =:allow,X="any host"
        1.2.3.37-39:deny
        11.2-3.:allow,X="range"
        6.6.6.6:allow,A="1",QMAILQUEUE="/bin/q",A="2",SUBMISSION="",JSMAIL_COMPAT="qmail"
        7.7.7.7:allow
        :allow,X="default"

        """;

    public TempDir Dir { get; } = new("tcprules");

    public string Path => Dir["rules.cdb"];

    public TcprulesFixture()
    {
        var built = Run.Process("tcprules", [Path, Dir["rules.tmp"]], stdin: Encoding.ASCII.GetBytes(Rules));
        if (built.ExitCode != 0) throw new InvalidOperationException("tcprules failed: " + built.Err);
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>
/// Rules built by the real tcprules, each connection decided by us and by the
/// real tcprulescheck: both must say the same, and that must be the outcome
/// the case expects.
/// </summary>
public class TcpRulesCheckTests(TcprulesFixture rules) : IClassFixture<TcprulesFixture>
{
    public static TheoryData<string, string?, string?, string> Cases => new()
    {
        // ip, TCPREMOTEHOST, TCPREMOTEINFO, what tcpserver does
        { "18.23.0.32", null, null, "rule 18.23.0.32: deny" },
        { "9.8.7.6", null, null, "rule 9.8.7.6: deny" },
        { "127.0.0.1", null, null, "rule 127.0.0.1: RELAYCLIENT= TCPLOCALHOST=movie.edu allow" },
        { "10.0.3.4", null, null, "rule 10.0.: RELAYCLIENT=@fix.me DATABYTES=1000 allow" },
        { "10.1.1.1", null, null, "rule 10.: X=ten allow" },
        { "100.0.0.1", null, null, "rule : X=default allow" },
        { "127.0.0.1", null, "joe", "rule joe@127.0.0.1: WHO=joe allow" },
        { "127.0.0.1", null, "bill", "rule 127.0.0.1: RELAYCLIENT= TCPLOCALHOST=movie.edu allow" },
        { "9.9.9.9", "host.example.com", "bob", "rule bob@=host.example.com: WHO=bob at host allow" },
        { "9.9.9.9", "host.example.com", null, "rule =.example.com: X=suffix allow" },
        { "9.9.9.9", "Host.Example.COM", null, "rule =Host.Example.COM: X=host allow" },
        { "9.9.9.9", "a.b.example.com", null, "rule =.example.com: X=suffix allow" },
        { "9.9.9.9", "example.com", null, "rule =: X=any host allow" },
        { "9.9.9.9", "", null, "rule =: X=any host allow" },
        { "9.9.9.9", "foo.org", "", "rule =: X=any host allow" },
        { "127.0.0.1", "Host.Example.COM", null, "rule 127.0.0.1: RELAYCLIENT= TCPLOCALHOST=movie.edu allow" },
        { "10.0.3.4", "Host.Example.COM", null, "rule =Host.Example.COM: X=host allow" },
        { "10.0.3.4", "a.example.com", null, "rule 10.0.: RELAYCLIENT=@fix.me DATABYTES=1000 allow" },
        { "1.2.3.38", null, null, "rule 1.2.3.38: deny" },
        { "1.2.3.40", null, null, "rule : X=default allow" },
        { "11.3.0.1", null, null, "rule 11.3.: X=range allow" },
        { "6.6.6.6", null, null, "rule 6.6.6.6: A=1 QMAILQUEUE=/bin/q A=2 SUBMISSION= JSMAIL_COMPAT=qmail allow" },
        { "7.7.7.7", null, null, "rule 7.7.7.7: allow" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void We_decide_as_tcprulescheck_does(string ip, string? host, string? info, string expected)
    {
        using var ours = TcpRules.Open(rules.Path, allowMissing: false);
        var decision = ours.Decide(Bytes(ip), host == null ? null : Bytes(host), info == null ? null : Bytes(info));

        Summary(decision).Should().Be(expected);
        CheckText(decision).Should().Be(TcpRulesCheck(rules.Path, ip, host, info));
    }

    [Fact]
    public void Without_a_default_rule_an_unmatched_connection_is_allowed_with_nothing_set()
    {
        using var dir = new TempDir("tcprules");
        Run.Process("tcprules", [dir["r.cdb"], dir["r.tmp"]], stdin: "10.:deny\n"u8.ToArray()).ExitCode.Should().Be(0);
        using var ours = TcpRules.Open(dir["r.cdb"], allowMissing: false);

        var decision = ours.Decide("192.0.2.1"u8, null, null);

        decision.Should().BeSameAs(TcpRuleDecision.NoRule);
        CheckText(decision).Should().Be(TcpRulesCheck(dir["r.cdb"], "192.0.2.1", null, null)).And.Be("default:\nallow connection\n");
    }

    [Fact]
    public void A_missing_file_is_tcpservers_error_unless_allowed()
    {
        using var dir = new TempDir("tcprules");
        var path = dir["absent.cdb"];

        var open = () => TcpRules.Open(path, allowMissing: false);

        var error = open.Should().Throw<TcpRulesException>().Which;
        error.Missing.Should().BeTrue();
        error.Message.Should().Be($"unable to read {path}: file does not exist");
        TcpRulesCheckError(path).Should().Be($"tcprulescheck: fatal: {error.Message}\n");
        using var allowed = TcpRules.Open(path, allowMissing: true);
        allowed.Decide("127.0.0.1"u8, null, null).Should().BeSameAs(TcpRuleDecision.NoRule);
    }

    [Theory]
    [InlineData("shorter than a header")]
    [InlineData("cut after its header")]
    [InlineData("a record longer than the file")]
    public void A_damaged_file_is_a_protocol_error_as_for_tcprulescheck(string damage)
    {
        using var dir = new TempDir("tcprules");
        var path = dir["damaged.cdb"];
        var good = File.ReadAllBytes(rules.Path);
        var bad = damage switch
        {
            "shorter than a header" => "garbage"u8.ToArray(),
            "cut after its header" => good[..2100],
            _ => good,
        };
        if (damage == "a record longer than the file")
            bad.AsSpan(2048 + 4, 4).Fill(0x7F); // the first record's data length (joe@127.0.0.1)
        File.WriteAllBytes(path, bad);

        var decide = () =>
        {
            using var ours = TcpRules.Open(path, allowMissing: true);
            return ours.Decide("127.0.0.1"u8, null, "joe"u8.ToArray());
        };

        var error = decide.Should().Throw<TcpRulesException>().Which;
        error.Missing.Should().BeFalse();
        error.Message.Should().Be($"unable to read {path}: protocol error");
        TcpRulesCheckError(path, "127.0.0.1", "joe").Should().Be($"tcprulescheck: fatal: {error.Message}\n");
    }

    /// <summary>A decision as tcprulescheck prints it.</summary>
    private static string CheckText(TcpRuleDecision d)
    {
        var text = new StringBuilder(d.Rule == null ? "default:\n" : $"rule {Text(d.Rule)}:\n");
        foreach (var a in d.Assignments) text.Append($"set environment variable {Text(a.Entry)}\n");
        return text.Append(d.Allowed ? "allow connection\n" : "deny connection\n").ToString();
    }

    private static string TcpRulesCheck(string path, string ip, string? host, string? info)
    {
        var result = RunCheck(path, ip, host, info);
        result.ExitCode.Should().Be(0, result.Err);
        return Text(result.Stdout);
    }

    private static string TcpRulesCheckError(string path, string ip = "192.0.2.1", string? info = null)
    {
        var result = RunCheck(path, ip, null, info);
        result.ExitCode.Should().Be(111);
        return Text(result.Stderr);
    }

    private static RunResult RunCheck(string path, string ip, string? host, string? info) =>
        Run.Process("tcprulescheck", [path], env: new Dictionary<string, string?>
        {
            ["TCPREMOTEIP"] = ip,
            ["TCPREMOTEHOST"] = host,
            ["TCPREMOTEINFO"] = info,
        });
}
