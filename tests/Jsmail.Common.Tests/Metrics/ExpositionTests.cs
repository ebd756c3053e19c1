using System.Text;
using Jsmail.Common.Metrics;
using Jsmail.TestSupport;
using Prometheus;

namespace Jsmail.Common.Tests.Metrics;

/// <summary>
/// The exposition a scrape gets (Prometheus text format 0.0.4) for each kind
/// of metric the programs use, line by line, and as promtool (the prometheus
/// package's checker) reads it.
/// </summary>
public sealed class ExpositionTests
{
    private static (CollectorRegistry, MetricFactory) Fresh()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        return (registry, Prometheus.Metrics.WithCustomRegistry(registry));
    }

    private static string[] Lines(CollectorRegistry registry) =>
        Encoding.UTF8.GetString(MetricsResponder.RenderAsync(registry).GetAwaiter().GetResult()).Split('\n');

    [Fact]
    public void A_counter_with_labels_has_its_help_its_type_and_one_line_per_child()
    {
        var (registry, f) = Fresh();
        var c = f.CreateCounter("jsmail_test_deliveries_total", "Deliveries, by channel.", "channel");
        c.WithLabels("local").Inc();
        c.WithLabels("remote").Inc(41);
        c.WithLabels("remote").Inc();
        Lines(registry).Should().ContainInOrder(
            "# HELP jsmail_test_deliveries_total Deliveries, by channel.",
            "# TYPE jsmail_test_deliveries_total counter",
            "jsmail_test_deliveries_total{channel=\"local\"} 1",
            "jsmail_test_deliveries_total{channel=\"remote\"} 42");
    }

    [Fact]
    public void A_gauge_goes_up_and_down_and_can_be_set()
    {
        var (registry, f) = Fresh();
        var open = f.CreateGauge("jsmail_test_open", "Open sessions.");
        open.Inc();
        open.Inc();
        open.Dec();
        var used = f.CreateGauge("jsmail_test_used", "Used slots.");
        used.Set(7);
        Lines(registry).Should().Contain(["# TYPE jsmail_test_open gauge", "jsmail_test_open 1", "jsmail_test_used 7"]);
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_ending_in_Inf_with_its_sum_and_count()
    {
        var (registry, f) = Fresh();
        var h = f.CreateHistogram("jsmail_test_duration_seconds", "Durations.", new HistogramConfiguration { Buckets = [0.5, 1, 5] });
        foreach (var v in new[] { 0.25, 0.75, 0.75, 3, 10 }) h.Observe(v);
        var lines = Lines(registry);
        lines.Should().Contain("# TYPE jsmail_test_duration_seconds histogram");
        lines.Should().ContainInOrder(
            "jsmail_test_duration_seconds_bucket{le=\"0.5\"} 1",
            "jsmail_test_duration_seconds_bucket{le=\"1\"} 3",
            "jsmail_test_duration_seconds_bucket{le=\"5\"} 4",
            "jsmail_test_duration_seconds_bucket{le=\"+Inf\"} 5");
        lines.Should().Contain(["jsmail_test_duration_seconds_sum 14.75", "jsmail_test_duration_seconds_count 5"]);
    }

    [Fact]
    public void Label_values_are_escaped()
    {
        var (registry, f) = Fresh();
        f.CreateCounter("jsmail_test_odd_total", "Odd labels.", "reason").WithLabels("a \"quoted\" back\\slash\nnewline").Inc();
        Lines(registry).Should().Contain("jsmail_test_odd_total{reason=\"a \\\"quoted\\\" back\\\\slash\\nnewline\"} 1");
    }

    [Fact]
    public void Counters_updated_from_many_threads_at_once_lose_nothing()
    {
        var (registry, f) = Fresh();
        var c = f.CreateCounter("jsmail_test_racing_total", "Raced.");
        Parallel.For(0, 8, _ => { for (var i = 0; i < 10_000; i++) c.Inc(); });
        Lines(registry).Should().Contain("jsmail_test_racing_total 80000");
    }

    [Fact]
    public async Task Promtool_accepts_the_exposition()
    {
        var (registry, f) = Fresh();
        f.CreateCounter("jsmail_test_messages_total", "Messages.", "class").WithLabels("2xx").Inc();
        f.CreateGauge("jsmail_test_sessions_open", "Sessions.").Set(3);
        f.CreateHistogram("jsmail_test_wait_seconds", "Waits.").Observe(0.3);
        var text = await MetricsResponder.RenderAsync(registry);
        var check = Run.Process("promtool", ["check", "metrics"], stdin: text);
        check.ExitCode.Should().Be(0, check.Out + check.Err);
    }
}
