namespace Jsmail.Common.Queue;

/// <summary>
/// How long jsmail-queued's group commit holds a sync for more messages
/// (docs/jsmail-queued.md, "Pace"). Pure: the times are the caller's, in
/// microseconds on any monotonic clock.
///
/// A sync costs the same for one message as for fifty, so when messages
/// arrive closer together than a lone message's commit takes (its two syncs)
/// or than the bound, holding a sync briefly for the next one costs the
/// waiting messages at most the bound, and saves the disk one sync. The hold
/// never passes <see cref="MaxHold"/> after the moment it begins, and ends
/// early when the next message is not expected before that. A message that
/// arrives after a quiet spell is no part of a flow and never waits: the
/// arrival gap it brings pushes the average far above any sync.
/// </summary>
public sealed class GroupCommitPace(long maxHold)
{
    /// <summary>A gap counts at most this much (100 ms), so that a flow that resumes after a pause is seen within a few arrivals.</summary>
    public const long GapCeiling = 100_000;

    private long _lastArrival = -1;
    /// <summary>The gap before the latest arrival: a message after a quiet spell is lone, whatever the average says.</summary>
    private long _lastGap = GapCeiling;
    /// <summary>Running average of the time between arrivals; "no flow" until arrivals show one.</summary>
    private long _gap = GapCeiling;
    /// <summary>Running average of one sync's duration; 0 until one was measured, and then nothing waits.</summary>
    private long _sync;

    /// <summary>The longest a sync is held, from the moment the hold begins; 0 turns holding off.</summary>
    public long MaxHold => maxHold;

    /// <summary>
    /// Whether recent arrivals come closer together than a lone message's
    /// commit (two syncs) takes, or than the bound: on a fast disk a commit
    /// ends before the next message arrives, and every message would pay a
    /// sync of its own; waiting up to the bound for it halves the syncs.
    /// </summary>
    public bool Flowing => _sync > 0 && _gap < Near && _lastGap < Near;

    /// <summary>How close arrivals must come to make holding worth it.</summary>
    private long Near => Math.Max(maxHold, 2 * _sync);

    /// <summary>One message arrived (its files are written) at <paramref name="now"/>.</summary>
    public void Arrived(long now)
    {
        if (_lastArrival >= 0)
        {
            _lastGap = Math.Clamp(now - _lastArrival, 0, GapCeiling);
            _gap += (_lastGap - _gap) / 4;
        }
        _lastArrival = Math.Max(_lastArrival, now);
    }

    /// <summary>One sync took <paramref name="took"/>.</summary>
    public void Synced(long took)
    {
        took = Math.Max(took, 1);
        _sync = _sync == 0 ? took : _sync + (took - _sync) / 4;
    }

    /// <summary>
    /// How much longer, from <paramref name="now"/>, to hold a sync for more
    /// messages when the hold began at <paramref name="since"/>; 0: sync now.
    /// </summary>
    public long Hold(long now, long since)
    {
        if (maxHold <= 0 || !Flowing) return 0;
        var deadline = since + maxHold;
        if (_lastArrival + _gap > deadline) return 0; // the next message is not expected in time
        return Math.Max(0, deadline - now);
    }
}
