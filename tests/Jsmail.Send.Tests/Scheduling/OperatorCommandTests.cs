using Jsmail.Common.Queue;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>The operator's requests (docs/jsmail.md) as scheduler events, with scripts: no queue on disk, no clock.</summary>
public class OperatorCommandTests
{
    [Fact]
    public void A_held_message_starts_no_delivery_until_released()
    {
        var s = new SchedulerScript();
        s.Scheduler.Hold(7);
        s.Queue(7, Channel.Remote, "a@x.test");
        s.Settle();
        s.All<StartDelivery>().Should().BeEmpty();

        s.Scheduler.Release(7);
        s.Drain();
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle().Which.MessageId.Should().Be(7UL);
    }

    [Fact]
    public void Holding_during_a_pass_lets_the_delivery_under_way_finish_and_starts_no_other()
    {
        var s = new SchedulerScript(local: 1);
        s.Queue(7, Channel.Local, "a@l.test", "b@l.test");
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle();

        s.Scheduler.Hold(7);
        s.Result(Channel.Local, 0, 'K');
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle("b is not started while the message is held");
        s.Files[(Channel.Local, 7)][0].Should().Be((byte)'D', "a's result is marked as usual");

        s.Scheduler.Release(7);
        s.Drain();
        s.Settle();
        s.All<StartDelivery>().Should().HaveCount(2);
        SchedulerScript.Addresses(s.All<StartDelivery>()[1]).Should().Equal("b@l.test");
    }

    [Fact]
    public void A_delete_waits_for_the_delivery_under_way_then_ends_every_record_and_the_pass_removes_the_file()
    {
        var s = new SchedulerScript(local: 1);
        s.Queue(7, Channel.Local, "a@l.test", "b@l.test", "c@l.test");
        s.Settle();
        s.Scheduler.Remove(new QueueCommand(QueueVerb.Delete, 7));
        s.Drain();
        s.All<EndMessage>().Should().BeEmpty("a delivery of the message is in a spawner slot");

        s.Result(Channel.Local, 0, 'K');
        s.Settle(); // the pass under way ends without starting b
        s.All<EndMessage>().Should().ContainSingle();
        s.All<StartDelivery>().Should().ContainSingle("nothing after a is delivered");
        s.All<RemoveChannelFile>().Should().ContainSingle().Which.MessageId.Should().Be(7UL);
        s.Files.Should().NotContainKey((Channel.Local, 7UL));
    }

    [Fact]
    public void A_message_deleted_before_preprocessing_ends_is_ended_when_jsmail_todo_reports_it()
    {
        var s = new SchedulerScript();
        s.Scheduler.Remove(new QueueCommand(QueueVerb.Bounce, 9, "spam"), preprocessed: false);
        s.Drain();
        s.All<EndMessage>().Should().BeEmpty("jsmail-todo has not reported the message yet");
        s.Queue(9, Channel.Remote, "a@x.test");
        s.Settle();
        s.All<StartDelivery>().Should().BeEmpty();
        s.All<EndMessage>().Should().ContainSingle().Which.Command.Reason.Should().Be("spam");
        s.All<RemoveChannelFile>().Should().ContainSingle();
    }

    [Fact]
    public void Requeue_makes_a_deferred_message_due_now_and_flush_every_one()
    {
        var s = new SchedulerScript();
        s.Queue(5, Channel.Remote, "u@x.test");
        s.Queue(6, Channel.Remote, "v@x.test");
        s.Settle();
        s.Result(Channel.Remote, 0, 'Z');
        s.Result(Channel.Remote, 1, 'Z');
        s.Settle();
        s.Clear();
        s.Now += 10;
        s.Tick();
        s.All<StartDelivery>().Should().BeEmpty("the next attempt is 400 s after birth");

        s.Scheduler.Requeue(5, s.Now).Should().BeTrue();
        s.Settle();
        s.All<StartDelivery>().Select(d => d.MessageId).Should().Equal(5UL);

        s.Scheduler.Flush(s.Now);
        s.Settle();
        s.All<StartDelivery>().Select(d => d.MessageId).Should().Equal(5UL, 6UL);
        s.Scheduler.Requeue(42, s.Now).Should().BeFalse("no message 42 is scheduled");
    }
}
