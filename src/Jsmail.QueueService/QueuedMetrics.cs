using Prometheus;

namespace Jsmail.QueueService;

/// <summary>
/// jsmail-queued's metrics (docs/metrics.md, "jsmail-queued"): what the group
/// committer did, counted by its own thread with prometheus-net's lock-free
/// adds and read by the scrape.
/// </summary>
public sealed class QueuedMetrics
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private readonly Counter.Child _queued, _failed;
    private readonly Counter _commits, _syncs;
    private readonly Histogram _batch;

    public QueuedMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        var messages = f.CreateCounter("jsmail_queued_messages_total", "Messages answered: queued (durable in todo/) or failed (refused with jsmail-queue's exit code).", "result");
        _queued = messages.WithLabels("queued");
        _failed = messages.WithLabels("failed");
        _commits = f.CreateCounter("jsmail_queued_group_commits_total", "Group commits: batches of messages made durable by one sync of their files.");
        _syncs = f.CreateCounter("jsmail_queued_syncs_total", "Filesystem syncs (syncfs and fsync of todo/).");
        _batch = f.CreateHistogram("jsmail_queued_group_commit_messages", "Messages per group commit.",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    }

    public void Answered(int exit) => (exit == 0 ? _queued : _failed).Inc();
    public void Synced() => _syncs.Inc();
    public void Committed(int messages)
    {
        _commits.Inc();
        _batch.Observe(messages);
    }
}
