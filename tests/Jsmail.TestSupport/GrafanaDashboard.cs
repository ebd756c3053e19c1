using System.Text.Json;
using System.Text.RegularExpressions;

namespace Jsmail.TestSupport;

/// <summary>
/// The Grafana dashboard shipped in docs/grafana/: its panels' PromQL as a
/// Prometheus server can run it (Grafana's variables given the values an
/// "All" selection and a short range give), and the metric names it reads.
/// The tests that scrape each program check the dashboard against what the
/// program really serves, so a renamed metric cannot leave a panel empty.
/// </summary>
public static partial class GrafanaDashboard
{
    public static string File => Path.Combine(Repo.Root, "docs", "grafana", "jsmail-dashboard.json");

    /// <summary>(panel title, query) for every target of every panel.</summary>
    public static List<(string Panel, string Query)> Queries(string rateInterval = "30s")
    {
        using var json = JsonDocument.Parse(System.IO.File.ReadAllText(File));
        var queries = new List<(string, string)>();
        foreach (var panel in json.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets)) continue; // a row
            foreach (var target in targets.EnumerateArray())
                queries.Add((panel.GetProperty("title").GetString()!,
                    target.GetProperty("expr").GetString()!.Replace("$__rate_interval", rateInterval).Replace("$job", ".*")));
        }
        return queries;
    }

    /// <summary>The names of the metrics the dashboard reads, histogram series as their metric's name.</summary>
    public static SortedSet<string> MetricNames(string prefix = "jsmail_") =>
        new(Queries().SelectMany(q => MetricName().Matches(q.Query).Select(m => m.Groups[1].Value)).Where(n => n.StartsWith(prefix)));

    /// <summary>The metric names (TYPE lines) of one scrape in Prometheus's text format.</summary>
    public static SortedSet<string> Served(string exposition) =>
        new(exposition.Split('\n').Where(l => l.StartsWith("# TYPE ")).Select(l => l.Split(' ')[2]));

    /// <summary>The metric names that have at least one sample in a scrape (a labelled metric has none before its first event).</summary>
    public static SortedSet<string> Sampled(string exposition) =>
        new(exposition.Split('\n').Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => MetricName().Match(l) is { Success: true } m ? m.Groups[1].Value : ""));

    /// <summary>The jsmail metric names one query reads.</summary>
    public static IEnumerable<string> NamesIn(string query) => MetricName().Matches(query).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"\b(jsmail_[a-z0-9_]+?)(?:_bucket|_sum|_count)?\b")]
    private static partial Regex MetricName();
}
