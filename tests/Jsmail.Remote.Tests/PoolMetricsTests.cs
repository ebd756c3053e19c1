using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-rspawn's pool metrics (docs/metrics.md, control/rspawnmetrics):
/// scraped while jsmail-rspawn still runs, after several messages to one
/// destination went over one session, they say one session opened and the
/// others reused it.
/// </summary>
public sealed class PoolMetricsTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-poolmetrics");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    [Fact]
    public void A_scrape_during_the_run_counts_one_session_opened_and_the_rest_reused()
    {
        const int n = 4;
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 60 });
        var metricsPort = Ports.Free();
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        _home.WriteControl("remoteidle", "60\n"); // the session stays open until the scrape
        _home.WriteControl("rspawnmetrics", $"{metricsPort}\n");
        var commands = new List<byte>();
        for (var i = 0; i < n; i++)
        {
            File.WriteAllText(_home.Queue($"mess/0/{700 + i}"), "Subject: x\n\nbody\n");
            commands.AddRange([(byte)i, .. Encoding.Latin1.GetBytes($"0/{700 + i}\0s@x\0u{i}@y.test\0")]);
        }
        File.WriteAllBytes(_dir["commands"], [.. commands]);

        // the commands, then stdin held open (bounded) until the test has scraped
        using var rspawn = Run.Start("/bin/bash", ["-c",
            "(cat \"$1\"; for i in $(seq 600); do [ -e \"$2\" ] && break; sleep 0.1; done) | \"$3\" >\"$4\"",
            "bash", _dir["commands"], _dir["scraped"], _home.Bin("jsmail-rspawn"), _dir["out"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin" });
        try
        {
            Wait.Until(() => File.Exists(_dir["out"]) && Encoding.Latin1.GetString(File.ReadAllBytes(_dir["out"])).Split("accepted message").Length == n + 1,
                60).Should().BeTrue("every message is delivered");
            var text = Scrape(metricsPort);
            text.Should().Contain("\njsmail_rspawn_sessions_opened_total 1\n");
            text.Should().Contain($"\njsmail_rspawn_sessions_reused_total {n - 1}\n");
            text.Should().Contain("\njsmail_rspawn_sessions_open 1\n");
            GrafanaDashboard.MetricNames("jsmail_rspawn_").Should().NotBeEmpty()
                .And.BeSubsetOf(GrafanaDashboard.Served(text), "docs/grafana's outbound-session panel reads what jsmail-rspawn serves");
        }
        finally
        {
            File.WriteAllText(_dir["scraped"], "");
            rspawn.WaitForExit(60_000).Should().BeTrue();
        }
        peer.Clients.Should().HaveCount(1);
    }

    private static string Scrape(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
    }
}
