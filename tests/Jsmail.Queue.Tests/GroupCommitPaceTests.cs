using Jsmail.Common.Queue;
using static Jsmail.Common.Queue.GroupCommitStep;

namespace Jsmail.Queue.Tests;

/// <summary>
/// jsmail-queued's pace, by scripts of events on a fake clock (µs): a sync is
/// held for more messages only while they come closer together than a
/// commit takes, never past the bound, and a lone message never waits.
/// </summary>
public class GroupCommitPaceTests
{
    private static GroupCommitAction A(GroupCommitStep step, long ticket = 0, int exit = 0, long duration = 0) =>
        new(step, ticket, exit, duration);

    /// <summary>A pace that has seen syncs of 400 µs and arrivals every 100 µs for 5 ms up to <paramref name="now"/> (≥ 5000).</summary>
    private static GroupCommitPace Flowing(long maxHold, long now)
    {
        var pace = new GroupCommitPace(maxHold);
        pace.Synced(400);
        for (var t = now - 5000; t <= now; t += 100) pace.Arrived(t);
        return pace;
    }

    [Fact]
    public void Nothing_is_held_before_a_sync_was_measured_or_when_the_bound_is_zero()
    {
        var pace = new GroupCommitPace(1000);
        for (var t = 0; t <= 5000; t += 100) pace.Arrived(t);
        pace.Hold(5000, 5000).Should().Be(0, "no sync measured yet: no idea what holding saves");
        Flowing(0, 10_000).Hold(10_000, 10_000).Should().Be(0, "control/queuedcommitwait 0 turns holding off");
    }

    [Fact]
    public void In_a_flow_a_sync_is_held_until_the_bound_and_never_past_it()
    {
        var pace = Flowing(1000, 10_000);
        pace.Flowing.Should().BeTrue();
        pace.Hold(10_000, 10_000).Should().Be(1000);
        pace.Arrived(10_100);
        pace.Hold(10_400, 10_000).Should().Be(600);
        pace.Hold(11_000, 10_000).Should().Be(0, "the bound");
        pace.Hold(12_000, 10_000).Should().Be(0);
        pace.Arrived(10_800);
        pace.Hold(10_800, 10_000).Should().Be(0, "after a 700 µs gap the next is expected past the bound at 11000: sync now");
    }

    [Fact]
    public void A_message_after_a_quiet_spell_never_waits_though_the_average_still_says_flow()
    {
        var pace = Flowing(1000, 10_000);
        pace.Arrived(60_000);
        pace.Flowing.Should().BeFalse();
        pace.Hold(60_000, 60_000).Should().Be(0);
    }

    [Fact]
    public void Arrivals_further_apart_than_two_syncs_and_the_bound_are_no_flow()
    {
        var pace = new GroupCommitPace(1000);
        pace.Synced(400);
        for (var t = 0; t <= 40_000; t += 1000) pace.Arrived(t);
        pace.Flowing.Should().BeFalse("a message every 1000 µs, a commit of two 400 µs syncs, a bound of 1000 µs: holding would only add delay");
        pace.Hold(40_000, 40_000).Should().Be(0);
    }

    [Fact]
    public void On_a_fast_disk_arrivals_within_the_bound_are_a_flow_though_a_commit_ends_before_the_next()
    {
        var pace = new GroupCommitPace(1000);
        pace.Synced(100);
        for (var t = 0; t <= 40_000; t += 500) pace.Arrived(t);
        pace.Flowing.Should().BeTrue("a message every 500 µs: waiting for the next costs it under the bound and saves a sync");
        pace.Hold(40_000, 40_000).Should().Be(1000);
        pace.Arrived(40_500);
        pace.Hold(40_500, 40_200).Should().Be(700, "the next is expected about 41000, before the bound at 41200");
        pace.Arrived(42_300);
        pace.Flowing.Should().BeFalse("the last gap (1300 µs) is past the bound and two syncs");
        pace.Hold(42_300, 42_300).Should().Be(0);
    }

    [Fact]
    public void A_lone_message_goes_straight_to_its_sync_and_so_do_its_links()
    {
        long now = 100_000;
        var pace = new GroupCommitPace(1000);
        pace.Synced(400);
        var core = new GroupCommitCore(pace, () => now);
        core.Prepared([1]).Should().Equal(A(SyncFiles));
        core.FilesSynced(true).Should().Equal(A(Link, 1));
        core.Linked(1, 0).Should().Equal(A(SyncLinks));
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 1, 0));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void In_a_flow_the_first_sync_is_held_and_gathers_the_messages_that_arrive_meanwhile()
    {
        long now = 10_000;
        var core = new GroupCommitCore(Flowing(1000, 9_900), () => now);
        core.Prepared([1]).Should().Equal(A(Hold, duration: 1000));
        now = 10_100;
        core.Prepared([2]).Should().BeEmpty("still held: 3 is expected before the bound");
        now = 10_200;
        core.Prepared([3]).Should().BeEmpty();
        core.Idle.Should().BeFalse();
        now = 11_000;
        core.HoldOver().Should().Equal(A(SyncFiles));
        core.HoldOver().Should().BeEmpty("a late timer outside a hold changes nothing");
        core.FilesSynced(true).Should().Equal(A(Link, 1), A(Link, 2), A(Link, 3));
    }

    [Fact]
    public void A_hold_ends_early_when_the_next_message_is_not_expected_before_the_bound()
    {
        long now = 10_000;
        var core = new GroupCommitCore(Flowing(1000, 9_900), () => now);
        core.Prepared([1]).Should().Equal(A(Hold, duration: 1000));
        now = 10_750;
        core.Prepared([2]).Should().Equal([A(SyncFiles)], "after a 750 µs gap the next is expected past the bound at 11000");
        core.FilesSynced(true).Should().Equal(A(Link, 1), A(Link, 2));
    }

    [Fact]
    public void In_a_flow_the_links_sync_is_held_so_that_it_also_covers_the_files_that_arrive_meanwhile()
    {
        long now = 10_000;
        var core = new GroupCommitCore(Flowing(1000, 9_900), () => now);
        core.Prepared([1]).Should().Equal(A(Hold, duration: 1000));
        for (var t = 2; t <= 9; t++) // the 10th would be due at the bound: the hold would end
        {
            now += 100;
            core.Prepared([t]).Should().BeEmpty();
        }
        now = 11_000;
        core.HoldOver().Should().Equal(A(SyncFiles));
        core.FilesSynced(true).Should().Equal(Enumerable.Range(1, 9).Select(t => A(Link, t)));
        for (var t = 1; t < 9; t++) core.Linked(t, 0).Should().BeEmpty();
        core.Linked(9, 0).Should().Equal([A(Hold, duration: 1000)], "the next message is expected within the bound");
        now = 11_100;
        core.Prepared([10]).Should().BeEmpty();
        now = 12_000;
        core.HoldOver().Should().Equal([A(SyncLinksAndFiles)], "one sync for 1-9's links and 10's files");
        core.LinksSynced(true).Should().Equal(
            [A(PullTrigger), .. Enumerable.Range(1, 9).Select(t => A(Answer, t, 0)), A(Link, 10)]);
    }

    [Fact]
    public void A_failed_batch_in_a_flow_answers_at_once_and_the_gathered_messages_still_commit()
    {
        long now = 10_000;
        var core = new GroupCommitCore(Flowing(1000, 9_900), () => now);
        core.Prepared([1]).Should().Equal(A(Hold, duration: 1000));
        now = 11_000;
        core.HoldOver().Should().Equal(A(SyncFiles));
        now = 11_050;
        core.Prepared([2]).Should().BeEmpty();
        core.FilesSynced(false).Should().Equal(A(Abandon, 1, 53), A(Answer, 1, 53), A(SyncFiles));
        core.FilesSynced(true).Should().Equal(A(Link, 2));
    }
}
