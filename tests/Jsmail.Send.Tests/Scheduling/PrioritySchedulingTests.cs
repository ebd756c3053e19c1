using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>
/// MT-PRIORITY (RFC 6710) in the scheduler core: when more messages are due
/// than there are slots, higher priorities get their passes first, messages
/// without one count as 0 and keep qmail's order among themselves.
/// </summary>
public class PrioritySchedulingTests
{
    private static SchedulerScript BusySlot()
    {
        var s = new SchedulerScript(remote: 1);
        s.Queue(1, Channel.Remote, "first@x.test");
        s.Settle(); // message 1 holds the only remote slot
        s.All<StartDelivery>().Should().ContainSingle().Which.MessageId.Should().Be(1);
        return s;
    }

    /// <summary>Each delivery succeeds and the next starts; the messages in the order their deliveries started.</summary>
    private static List<ulong> Drain(SchedulerScript s)
    {
        for (var i = 0; i < 20 && s.All<StartDelivery>().Count > i; i++)
        {
            s.Result(Channel.Remote, 0, 'K');
            s.Settle();
        }
        return s.All<StartDelivery>().Select(d => d.MessageId).ToList();
    }

    [Fact]
    public void Higher_priorities_go_first_when_the_slots_are_full()
    {
        var s = BusySlot();
        foreach (var (id, priority) in new (ulong, int)[] { (2, -3), (3, 0), (4, 5), (5, 5), (6, 9), (7, 0) })
        {
            s.Scheduler.Prioritize(id, priority);
            s.Queue(id, Channel.Remote, $"m{id}@x.test");
            s.Now++; // each due a second after the one before: equal priorities go in due order
        }
        Drain(s).Should().Equal(1, 6, 4, 5, 3, 7, 2);
        s.Scheduler.Queued.Should().Be(0);
    }

    [Fact]
    public void A_message_that_comes_while_the_slots_are_full_can_still_go_first()
    {
        // the driver ticks after every event: qmail would take message 2 into a pass at once
        var s = BusySlot();
        s.Scheduler.Prioritize(2, -3);
        s.Queue(2, Channel.Remote, "m2@x.test");
        s.Tick();
        s.Scheduler.Wakeup(s.Now).Should().BeGreaterThan(s.Now, "nothing to do until the slot frees: no busy loop");
        s.Scheduler.Prioritize(3, 5);
        s.Queue(3, Channel.Remote, "m3@x.test");
        s.Tick();
        Drain(s).Should().Equal(1, 3, 2);
    }

    [Fact]
    public void A_prioritized_message_waits_for_its_retry_time_like_any_other()
    {
        var s = BusySlot();
        s.Scheduler.Prioritize(2, 7);
        s.Queue(2, Channel.Remote, "m2@x.test");
        s.Queue(3, Channel.Remote, "m3@x.test");
        s.Result(Channel.Remote, 0, 'K');
        s.Settle();
        s.Result(Channel.Remote, 0, 'Z', "later"); // message 2 deferred: due at its retry time
        s.Settle();
        s.All<StartDelivery>().Select(d => d.MessageId).Should().Equal(1, 2, 3);
        s.Scheduler.Queued.Should().Be(1);
        s.Scheduler.Wakeup(s.Now).Should().BeGreaterThan(s.Now, "the deferred message is not due yet");
    }

    [Fact]
    public void Without_priorities_the_order_is_qmails()
    {
        var s = BusySlot();
        foreach (ulong id in new ulong[] { 2, 3, 4 })
        {
            s.Queue(id, Channel.Remote, $"m{id}@x.test");
            s.Now++;
        }
        Drain(s).Should().Equal(1, 2, 3, 4);
    }
}
