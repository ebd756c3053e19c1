using System.Diagnostics;
using Jsmail.Send.Send.Scheduling;
using Prometheus;

namespace Jsmail.Send.Send;

/// <summary>
/// jsmail-send's metrics (docs/metrics.md, "jsmail-send"). The loop updates
/// them with prometheus-net's lock-free operations (atomic adds and
/// exchanges); the queue census is taken by the scrape itself, on the
/// responder's thread, from the queue's directories (read only, relative to
/// queue/ where jsmail-send runs), so a scrape never waits for the loop.
/// </summary>
public sealed class SendMetrics
{
    private static readonly string[] ChannelNames = ["local", "remote"];
    private static readonly string[] States = ["todo", "queued", "held"];

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private readonly Counter.Child[] _started = new Counter.Child[2];
    private readonly Counter.Child[,] _results = new Counter.Child[2, 3];
    private readonly Histogram.Child[] _deliverySeconds = new Histogram.Child[2];
    private readonly Gauge.Child[] _used = new Gauge.Child[2], _limit = new Gauge.Child[2], _waiting = new Gauge.Child[2];
    private readonly Counter _completed;
    private readonly Histogram _residence;
    private readonly Counter.Child _bounceSingle, _bounceDouble, _bounceDiscarded;
    private readonly Gauge _messages, _oldest;
    private readonly long[,] _startedAt; // Stopwatch time each slot's delivery started; the loop's own

    public SendMetrics(int[] concurrency)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        var started = f.CreateCounter("jsmail_send_deliveries_started_total", "Deliveries started (one per recipient), by channel.", "channel");
        var results = f.CreateCounter("jsmail_send_deliveries_total", "Delivery results (one per recipient), by channel and result: success, deferral, failure.", "channel", "result");
        var seconds = f.CreateHistogram("jsmail_send_delivery_duration_seconds", "Time from a delivery's start to its result, by channel.",
            new HistogramConfiguration { LabelNames = ["channel"], Buckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1200] });
        var used = f.CreateGauge("jsmail_send_concurrency_used", "Delivery slots in use, by channel.", "channel");
        var limit = f.CreateGauge("jsmail_send_concurrency_limit", "Delivery slots, by channel (concurrencylocal, concurrencyremote, the spawner's limit).", "channel");
        var waiting = f.CreateGauge("jsmail_send_channel_waiting_messages", "Messages scheduled on a channel and not in a pass: due or deferred.", "channel");
        for (var c = 0; c < 2; c++)
        {
            _started[c] = started.WithLabels(ChannelNames[c]);
            _results[c, 0] = results.WithLabels(ChannelNames[c], "success");
            _results[c, 1] = results.WithLabels(ChannelNames[c], "deferral");
            _results[c, 2] = results.WithLabels(ChannelNames[c], "failure");
            _deliverySeconds[c] = seconds.WithLabels(ChannelNames[c]);
            _used[c] = used.WithLabels(ChannelNames[c]);
            _limit[c] = limit.WithLabels(ChannelNames[c]);
            _limit[c].Set(concurrency[c]);
            _waiting[c] = waiting.WithLabels(ChannelNames[c]);
        }
        _startedAt = new long[2, Math.Max(concurrency[0], concurrency[1]) + 1];
        _completed = f.CreateCounter("jsmail_send_messages_completed_total", "Messages whose every recipient is done and that left the queue.");
        _residence = f.CreateHistogram("jsmail_send_queue_residence_seconds", "Time from a message's queueing to its leaving the queue.",
            new HistogramConfiguration { Buckets = [1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400] });
        var bounces = f.CreateCounter("jsmail_send_bounces_total",
            "Bounce messages: single (to the sender), double (to doublebounceto), discarded (a double bounce with nowhere to go).", "kind");
        _bounceSingle = bounces.WithLabels("single");
        _bounceDouble = bounces.WithLabels("double");
        _bounceDiscarded = bounces.WithLabels("discarded");
        _messages = f.CreateGauge("jsmail_send_queue_messages",
            "Messages in the queue by state: todo (not preprocessed), queued (preprocessed, to deliver), held.", "state");
        _oldest = f.CreateGauge("jsmail_send_queue_oldest_age_seconds", "Age of the oldest message in each state (0 when there is none).", "state");
        Registry.AddBeforeCollectCallback(Census);
    }

    public void DeliveryStarted(Channel c, int slot, int recipients)
    {
        _started[(int)c].Inc(recipients);
        if (slot < _startedAt.GetLength(1)) _startedAt[(int)c, slot] = Stopwatch.GetTimestamp();
    }

    /// <summary>One recipient's result as the scheduler took it (K, Z, D).</summary>
    public void Reported(Channel c, int slot, byte status)
    {
        var result = status switch { (byte)'K' => 0, (byte)'Z' => 1, (byte)'D' => 2, _ => -1 };
        if (result < 0) return;
        _results[(int)c, result].Inc();
        if (slot < _startedAt.GetLength(1)) _deliverySeconds[(int)c].Observe(Stopwatch.GetElapsedTime(_startedAt[(int)c, slot]).TotalSeconds);
    }

    public void Completed(long birth, long now)
    {
        _completed.Inc();
        _residence.Observe(Math.Max(0, now - birth));
    }

    public void Bounced(BounceKind kind) =>
        (kind switch { BounceKind.Single => _bounceSingle, BounceKind.Discard => _bounceDiscarded, _ => _bounceDouble }).Inc();

    /// <summary>The scheduler's state after a turn of the loop: cheap reads, written only when changed.</summary>
    public void Schedule(Scheduler scheduler)
    {
        foreach (var c in Channels.Both)
        {
            var s = scheduler[c];
            if (_used[(int)c].Value != s.Used) _used[(int)c].Set(s.Used);
            if (_waiting[(int)c].Value != s.Waiting) _waiting[(int)c].Set(s.Waiting);
        }
    }

    /// <summary>
    /// The queue as its directories show it, at each scrape: a stat per
    /// message (todo/ and info/ entries' times are their queueing), so a
    /// queue of 100,000 messages costs a scrape about a tenth of a second.
    /// </summary>
    private void Census()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var held = new HashSet<ulong>(Jsmail.Common.Queue.HoldMark.Ids());
        var count = new long[3];
        var oldest = new long[] { now, now, now };
        foreach (var (id, mtime) in QueueCensus.Entries("todo", split: false)) Tally(0, mtime);
        foreach (var (id, mtime) in QueueCensus.Entries("info", split: true)) Tally(held.Contains(id) ? 2 : 1, mtime);
        for (var s = 0; s < 3; s++)
        {
            _messages.WithLabels(States[s]).Set(count[s]);
            _oldest.WithLabels(States[s]).Set(count[s] == 0 ? 0 : Math.Max(0, now - oldest[s]));
        }

        void Tally(int state, long mtime)
        {
            count[state]++;
            if (mtime < oldest[state]) oldest[state] = mtime;
        }
    }
}
