using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.E2E.Tests;

/// <summary>
/// A real Prometheus server (the Debian package) scrapes jsmail-send
/// (control/metrics), server-mode jsmail-smtpd (--metrics) and jsmail-queued
/// (control/queuedmetrics) on loopback while messages go from SMTP through the
/// queue service to a Maildir. Through Prometheus's HTTP API: every target is
/// up, and the accepted, queued and delivered counts are the messages sent
/// (JSMAIL_E2E_METRICS_MESSAGES, default 5). promtool checks each endpoint's
/// exposition as it stands.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output) : IDisposable
{
    private const string Recipient = "rcpt@e2e.test";
    private readonly TestHome _home = TestHome.Install();
    private readonly List<Process> _processes = [];
    private readonly TempDir _prometheusDir = new();

    private static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("JSMAIL_E2E_METRICS_MESSAGES"), out var n) && n > 0 ? n : 5;

    [Fact]
    public void Prometheus_scrapes_every_endpoint_and_its_counts_are_the_messages_that_went_through()
    {
        int sendMetrics = Ports.Free(), serverMetrics = Ports.Free(), queuedMetrics = Ports.Free(), smtp = Ports.Free();
        var mailbox = SetUpHome(sendMetrics, queuedMetrics);
        StartQueueService();
        var send = Track(Run.Start("/bin/bash", ["-c", "cd / && exec env - PATH=\"$1/bin:/usr/bin:/bin\" jsmail-start ./Maildir/ >/dev/null 2>&1 </dev/null",
            "bash", _home.Path]));
        StartServer(smtp, serverMetrics);
        WaitFor(() => Ports.Listening(sendMetrics), "jsmail-send serves its metrics");
        var prometheus = StartPrometheus(("jsmail-send", sendMetrics), ("jsmail-smtpd", serverMetrics), ("jsmail-queued", queuedMetrics));

        var probes = ScrapedValue(serverMetrics, "jsmail_smtpd_connections_total"); // the test's own checks that the port listens
        for (var i = 0; i < Count; i++)
            SmtpSubmitter.DataReply(smtp, "sender@example.org", [Recipient], $"Subject: metrics {i}\n\nmessage {i}\n")
                .Should().StartWith("250 ");
        var newDir = Path.Combine(mailbox, "Maildir", "new");
        WaitFor(() => Directory.EnumerateFiles(newDir).Count() >= Count || send.HasExited, "jsmail-send delivers every message");
        Directory.EnumerateFiles(newDir).Should().HaveCount(Count);

        WaitFor(() => Targets(prometheus) is { Count: 3 } t && t.All(x => x.Health == "up"), "Prometheus has scraped every target");
        foreach (var (job, health, error) in Targets(prometheus)) output.WriteLine($"{job}: {health} {error}");
        var expected = new Dictionary<string, double>
        {
            ["jsmail_smtpd_messages_total{class=\"2xx\"}"] = Count,
            ["jsmail_queued_messages_total{result=\"queued\"}"] = Count,
            ["jsmail_send_deliveries_started_total{channel=\"local\"}"] = Count,
            ["jsmail_send_deliveries_total{channel=\"local\",result=\"success\"}"] = Count,
            ["jsmail_send_messages_completed_total"] = Count,
            ["jsmail_smtpd_connections_total"] = probes + Count,
        };
        // a scrape every second: bounded wait for one taken after the last delivery
        WaitFor(() => expected.All(e => Query(prometheus, e.Key) == e.Value), "Prometheus's counts are the messages sent");
        foreach (var (query, _) in expected) output.WriteLine($"{query} = {Query(prometheus, query)}");
        Query(prometheus, "jsmail_smtpd_received_bytes_total").Should().BeGreaterThan(Count * 20);
        Query(prometheus, "jsmail_send_concurrency_limit{channel=\"local\"}").Should().BePositive();

        SortedSet<string> served = [], sampled = [];
        foreach (var port in new[] { sendMetrics, serverMetrics, queuedMetrics })
        {
            var scrape = Scrape(port);
            served.UnionWith(GrafanaDashboard.Served(File.ReadAllText(scrape)));
            sampled.UnionWith(GrafanaDashboard.Sampled(File.ReadAllText(scrape)));
            var lint = Run.Shell("exec promtool check metrics < \"$1\"", stdin: null, args: [scrape]);
            lint.ExitCode.Should().Be(0, $"promtool on port {port}: {lint.Out}{lint.Err}");
        }
        DashboardPanelsAnswer(prometheus, served, sampled);
    }

    /// <summary>
    /// docs/grafana's dashboard over this flow: every panel's query is PromQL
    /// Prometheus runs, and answers with series; every metric it reads is one
    /// these programs serve. The pooled rspawn's panel is not fed here
    /// (Remote.Tests' PoolMetricsTests checks its names against its endpoint),
    /// nor the TLS one: a labelled metric has no series before its first event.
    /// </summary>
    private void DashboardPanelsAnswer(string prometheus, SortedSet<string> served, SortedSet<string> sampled)
    {
        var pooled = GrafanaDashboard.MetricNames("jsmail_rspawn_");
        GrafanaDashboard.MetricNames().Except(pooled).Should().BeSubsetOf(served, "the dashboard reads only metrics the programs serve");
        GrafanaDashboard.MetricNames().Except(sampled).Should().BeEquivalentTo(pooled.Append("jsmail_smtpd_tls_handshakes_total"),
            "every other panel has samples from this flow to show");
        foreach (var (panel, query) in GrafanaDashboard.Queries())
        {
            var body = Get($"{prometheus}/api/v1/query?query={Uri.EscapeDataString(query)}");
            body.Should().NotBeNull($"Prometheus runs panel \"{panel}\"'s query {query}");
            using (var json = JsonDocument.Parse(body!))
                json.RootElement.GetProperty("status").GetString().Should().Be("success", query);
            if (!GrafanaDashboard.NamesIn(query).All(sampled.Contains)) continue;
            // a rate needs two scrapes in its range: bounded wait for the second
            WaitFor(() => Series(prometheus, query) > 0, $"panel \"{panel}\" has data: {query}");
        }
    }

    private static int Series(string prometheus, string query)
    {
        if (Get($"{prometheus}/api/v1/query?query={Uri.EscapeDataString(query)}") is not { } body) return 0;
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").GetArrayLength();
    }

    /// <summary>Home, Maildir (owned by nobody: qmail never delivers as root), controls; returns the mailbox's directory.</summary>
    private string SetUpHome(int sendMetrics, int queuedMetrics)
    {
        _home.WriteControl("me", "mail.e2e.test\n");
        _home.WriteControl("rcpthosts", "e2e.test\n");
        _home.WriteControl("locals", "e2e.test\n");
        _home.WriteControl("metrics", $"127.0.0.1:{sendMetrics}\n");
        _home.WriteControl("queuedmetrics", $"{queuedMetrics}\n"); // a bare port: loopback
        var mailbox = Path.Combine(_home.Path, "rcpt");
        var id = Run.Shell("mkdir -p \"$1\" && \"$2/bin/maildirmake\" \"$1/Maildir\" && chown -R nobody: \"$1\" && id -u nobody && id -g nobody",
            args: [mailbox, _home.Path]);
        id.ExitCode.Should().Be(0, id.Err);
        var ids = id.Out.Split('\n');
        File.WriteAllText(Path.Combine(_home.Path, "users", "assign"), $"=rcpt:nobody:{ids[0]}:{ids[1]}:{mailbox}:::\n.\n");
        Run.Process(_home.Bin("qmail-newu"), []).ExitCode.Should().Be(0);
        return mailbox;
    }

    private void StartQueueService()
    {
        var process = Track(Run.Start(_home.Bin("jsmail-queued"), [], redirect: Redirect.Error));
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) output.WriteLine(e.Data); };
        process.BeginErrorReadLine();
        WaitFor(() => process.HasExited || File.Exists(Path.Combine(_home.Path, "queued", "socket")), "jsmail-queued listens");
        process.HasExited.Should().BeFalse("jsmail-queued starts");
    }

    private void StartServer(int port, int metrics)
    {
        var process = Track(Run.Start(_home.Bin("jsmail-smtpd"),
            ["--listen", $"127.0.0.1:{port}", "--local-host", "mail.e2e.test", "--single-user", "--queue", "service", "--metrics", $"127.0.0.1:{metrics}"],
            redirect: Redirect.Error | Redirect.Output));
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        WaitFor(() => process.HasExited || (Ports.Listening(port) && Ports.Listening(metrics)), "jsmail-smtpd-server listens");
        process.HasExited.Should().BeFalse("jsmail-smtpd-server starts");
    }

    /// <summary>Prometheus on a free loopback port, scraping each target every second; its API's base URL.</summary>
    private string StartPrometheus(params (string Job, int Port)[] targets)
    {
        var config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        foreach (var (job, target) in targets)
            config.Append($"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n");
        var file = Path.Combine(_prometheusDir.Path, "prometheus.yml");
        File.WriteAllText(file, config.ToString());
        var port = Ports.Free();
        var process = Track(Run.Start("/usr/bin/prometheus",
            [$"--config.file={file}", $"--storage.tsdb.path={Path.Combine(_prometheusDir.Path, "data")}",
             $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], redirect: Redirect.Error | Redirect.Output));
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) output.WriteLine("prometheus: " + e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var url = $"http://127.0.0.1:{port}";
        WaitFor(() => process.HasExited || Get(url + "/-/ready") != null, "Prometheus is ready");
        process.HasExited.Should().BeFalse("Prometheus starts");
        return url;
    }

    private static List<(string Job, string Health, string Error)> Targets(string prometheus)
    {
        if (Get(prometheus + "/api/v1/targets?state=active") is not { } body) return [];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Select(t => (t.GetProperty("labels").GetProperty("job").GetString()!, t.GetProperty("health").GetString()!,
                t.GetProperty("lastError").GetString() ?? "")).ToList();
    }

    /// <summary>An instant query's single value; NaN when there is none (yet).</summary>
    private static double Query(string prometheus, string query)
    {
        if (Get($"{prometheus}/api/v1/query?query={Uri.EscapeDataString(query)}") is not { } body) return double.NaN;
        using var json = JsonDocument.Parse(body);
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() != 1) return double.NaN;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>An unlabelled metric's value as the endpoint itself says it.</summary>
    private static double ScrapedValue(int port, string name)
    {
        var line = (Get($"http://127.0.0.1:{port}/metrics") ?? "").Split('\n').SingleOrDefault(l => l.StartsWith(name + " "));
        line.Should().NotBeNull(name);
        return double.Parse(line![(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>One scrape of an endpoint, saved for promtool; the file's path.</summary>
    private string Scrape(int port)
    {
        var text = Get($"http://127.0.0.1:{port}/metrics");
        text.Should().NotBeNull();
        var file = Path.Combine(_prometheusDir.Path, $"scrape-{port}.txt");
        File.WriteAllText(file, text);
        return file;
    }

    private static string? Get(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = http.GetAsync(url).GetAwaiter().GetResult();
            return response.IsSuccessStatusCode ? response.Content.ReadAsStringAsync().GetAwaiter().GetResult() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    private Process Track(Process process)
    {
        lock (_processes) _processes.Add(process);
        return process;
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>A bounded wait; how long the test had run when it ended goes to the output.</summary>
    private void WaitFor(Func<bool> done, string what)
    {
        Wait.Until(done, 60, pollMs: 100).Should().BeTrue(what);
        output.WriteLine($"{_clock.Elapsed.TotalSeconds:F1}s {what}");
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited) { Libc.Kill(p.Id, Libc.SIGTERM); if (!p.WaitForExit(20_000)) Libc.Kill(p.Id, Libc.SIGKILL); p.WaitForExit(10_000); }
            p.Dispose();
        }
        Processes.KillAll(_home.Path);
        _home.Dispose();
        _prometheusDir.Dispose();
    }
}
