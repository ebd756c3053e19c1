using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send;
using Jsmail.Send.Send.Scheduling;
using static Jsmail.Send.Tests.Scheduling.SchedulerScript;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>The scheduler core alone, with scripts of events: no queue on disk, no processes, no clock.</summary>
public class SchedulerTests
{
    [Fact]
    public void Recipients_at_one_domain_go_in_one_delivery_up_to_the_limit_each_group_where_its_first_recipient_is()
    {
        var s = new SchedulerScript(remoteGroup: 3);
        s.Queue(7, Channel.Remote, "a@x.test", "b@X.TEST", "c@y.test", "d@x.test", "e@x.test", "f@x.test", "nobody");
        s.Settle();

        var starts = s.All<StartDelivery>();
        starts.Select(Addresses).Should().BeEquivalentTo(
            new[] { new[] { "a@x.test", "b@X.TEST", "d@x.test" }, ["c@y.test"], ["e@x.test", "f@x.test"], ["nobody"] },
            o => o.WithStrictOrdering());
        starts.Select(d => d.Slot).Should().Equal(0, 1, 2, 3);
        s.Log.Where(l => l.StartsWith("starting delivery")).Should().Equal(
            "starting delivery 1: msg 7 to remote a@x.test", "starting delivery 2: msg 7 to remote b@X.TEST",
            "starting delivery 3: msg 7 to remote d@x.test", "starting delivery 4: msg 7 to remote c@y.test",
            "starting delivery 5: msg 7 to remote e@x.test", "starting delivery 6: msg 7 to remote f@x.test",
            "starting delivery 7: msg 7 to remote nobody");
    }

    [Fact]
    public void A_verp_sender_and_local_recipients_are_never_grouped()
    {
        var s = new SchedulerScript(remoteGroup: 50);
        s.Senders[8] = B("list-@x.test-@[]");
        s.Files[(Channel.Remote, 8)] = B("Ta@y.test\0Tb@y.test\0");
        s.Scheduler.TodoDone((byte)'R', 8, s.Now);
        s.Queue(9, Channel.Local, "a@local.test", "b@local.test");
        s.Settle();
        s.All<StartDelivery>().Should().AllSatisfy(d => d.Recipients.Should().ContainSingle());
        s.All<StartDelivery>().Should().HaveCount(4);
    }

    [Theory]
    [InlineData(Channel.Local, new long[] { 100, 400, 900, 1600 })]
    [InlineData(Channel.Remote, new long[] { 400, 1600, 3600, 6400 })]
    public void A_deferred_recipient_is_tried_again_on_qmails_schedule(Channel channel, long[] ages)
    {
        var s = new SchedulerScript();
        s.Queue(5, channel, "u@x.test");
        foreach (var age in ages)
        {
            s.Settle();
            s.All<StartDelivery>().Should().ContainSingle();
            s.Result(channel, 0, 'Z', "try later");
            s.Settle();
            s.Scheduler.Wakeup(s.Now).Should().Be(Birth + age, "attempts come at birth + (k·skip)²");
            s.Clear();
            s.Now = Birth + age - 1;
            s.Tick();
            s.All<OpenPass>().Should().BeEmpty("the message is not due a second early");
            s.Now = Birth + age;
        }
    }

    [Fact]
    public void No_more_deliveries_start_on_a_channel_than_its_concurrency_and_a_freed_slot_is_used_again()
    {
        var s = new SchedulerScript(local: 2);
        for (ulong id = 1; id <= 3; id++) s.Queue(id, Channel.Local, $"u{id}@local.test");
        s.Settle();
        var started = s.All<StartDelivery>();
        started.Select(d => d.Slot).Should().Equal(0, 1);
        started.Select(d => d.MessageId).Should().OnlyHaveUniqueItems();
        s.Log.Should().Contain("status: local 2/2 remote 0/20");

        s.Result(Channel.Local, 1, 'K');
        s.Settle();
        s.All<StartDelivery>().Should().HaveCount(3);
        var third = s.All<StartDelivery>().Last();
        third.Slot.Should().Be(1, "the freed slot");
        started.Select(d => d.MessageId).Should().NotContain(third.MessageId);
    }

    [Fact]
    public void A_grouped_delivery_with_250_450_and_550_marks_two_done_bounces_one_and_retries_only_the_450()
    {
        var s = new SchedulerScript(remoteGroup: 50);
        s.Queue(11, Channel.Remote, "ok@x.test", "later@x.test", "never@x.test");
        s.Settle();
        var ok = s.Offset(Channel.Remote, 11, "ok@x.test");
        var never = s.Offset(Channel.Remote, 11, "never@x.test");
        s.Clear();

        s.Results(Channel.Remote,
            new DeliveryResult(0, (byte)'K', B("250 ok")),
            new DeliveryResult(0, (byte)'Z', B("450 later")),
            new DeliveryResult(0, (byte)'D', B("550 no such user")));

        s.Log.Should().StartWith(["delivery 1: success: 250 ok", "delivery 2: deferral: 450 later", "delivery 3: failure: 550 no such user"]);
        s.All<AppendBounce>().Should().ContainSingle().Which.Recipient.Should().Equal(B("never@x.test"));
        s.All<MarkDone>().Should().ContainSingle().Which.RecordOffsets.Should().Equal(ok, never);
        s.Done.IndexOf(s.All<AppendBounce>()[0]).Should().BeLessThan(s.Done.IndexOf(s.All<MarkDone>()[0]), "the bounce is written before its recipient is marked done");
        s.All<RemoveChannelFile>().Should().BeEmpty();

        s.Clear();
        s.Now = s.Scheduler.Wakeup(s.Now);
        s.Now.Should().Be(Birth + 400);
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle().Which.Recipients.Should().ContainSingle()
            .Which.Address.Should().Equal(B("later@x.test"), "only the 450 recipient is sent again");
        s.Result(Channel.Remote, 0, 'K');
        s.Settle();
        s.All<RemoveChannelFile>().Should().ContainSingle();
        s.All<CompleteMessage>().Should().ContainSingle().Which.MessageId.Should().Be(11UL);
    }

    [Fact]
    public void A_failure_is_bounced_and_the_message_completed_and_a_deferral_past_the_lifetime_is_a_failure()
    {
        var s = new SchedulerScript(lifetime: 3600);
        s.Queue(3, Channel.Local, "gone@local.test");
        s.Settle();
        s.Result(Channel.Local, 0, 'D', "no mailbox");
        s.Settle();
        s.All<AppendBounce>().Should().ContainSingle().Which.Report.Should().Equal(B("no mailbox"));
        s.All<CompleteMessage>().Should().ContainSingle();

        var old = new SchedulerScript(lifetime: 3600) { Now = Birth + 3601 };
        old.Queue(4, Channel.Local, "slow@local.test");
        old.Settle();
        old.Result(Channel.Local, 0, 'Z', "busy");
        old.Log.Should().Contain(l => l.StartsWith("delivery 1: failure: busy"));
        old.All<AppendBounce>().Should().ContainSingle().Which.Report.Should().Equal([.. B("busy"), .. BounceText.TooLong]);
    }

    [Theory]
    [InlineData("s@x.test", BounceKind.Single, "", "s@x.test")]
    [InlineData("", BounceKind.Double, "#@[]", "postmaster@dbl.test")]
    [InlineData("#@[]", BounceKind.Discard, "", "")]
    public void A_bounce_goes_to_the_sender_a_double_bounce_to_doublebounceto_and_a_triple_nowhere(string sender, BounceKind kind, string from, string to)
    {
        var route = BounceRoute.For(B(sender), B("postmaster@dbl.test"));
        route.Kind.Should().Be(kind);
        route.Sender.Should().Equal(B(from));
        route.Recipient.Should().Equal(B(to));
    }

    [Fact]
    public void At_start_up_scanned_messages_are_due_at_their_channel_files_mtimes_and_one_without_any_is_completed()
    {
        var s = new SchedulerScript();
        s.Files[(Channel.Local, 1)] = B("Ta@local.test\0");
        s.Files[(Channel.Remote, 1)] = B("Tb@x.test\0");
        s.Senders[1] = B("s@x.test");
        s.Scheduler.MessageScanned(1, new ScannedMessage(true, false, Birth + 50, Birth + 10), s.Now);
        s.Scheduler.MessageScanned(2, new ScannedMessage(true, false, null, null), s.Now);
        s.Scheduler.MessageScanned(3, new ScannedMessage(true, true, Birth, null), s.Now);
        s.Scheduler.MessageScanned(4, new ScannedMessage(false, false, null, null), s.Now);
        s.Scheduler.ScanFailed(5, s.Now);

        s.Tick();
        s.All<CompleteMessage>().Select(c => c.MessageId).Should().Equal(2UL);
        s.All<OpenPass>().Should().BeEmpty("no channel file is due yet; message 3 waits for jsmail-todo");
        s.Scheduler.Wakeup(s.Now).Should().Be(Birth + 10);
        s.Now = Birth + 50;
        s.Settle();
        s.All<OpenPass>().Select(p => (p.Channel, p.MessageId)).Should().Equal((Channel.Local, 1UL), (Channel.Remote, 1UL));
        s.All<ScanMessage>().Should().BeEmpty();
        s.Now = Birth + Scheduler.SleepSysfail;
        s.Tick();
        s.All<ScanMessage>().Should().ContainSingle().Which.MessageId.Should().Be(5UL, "a failed stat is retried after 123 s");
    }

    [Fact]
    public void Hup_rereads_the_controls_alrm_makes_everything_due_and_term_ends_with_the_next_attempts_kept()
    {
        var s = new SchedulerScript();
        s.Scheduler.Hangup();
        s.Drain();
        s.All<RereadControls>().Should().ContainSingle();

        s.Queue(6, Channel.Remote, "u@x.test");
        s.Settle();
        s.Result(Channel.Remote, 0, 'Z', "later");
        s.Settle();
        s.Scheduler.Wakeup(s.Now).Should().Be(Birth + 400);
        s.Scheduler.Alarm(s.Now);
        s.Scheduler.Wakeup(s.Now).Should().Be(s.Now);

        s.Scheduler.Terminate();
        s.Scheduler.CanExit.Should().BeTrue();
        s.Scheduler.Finish();
        s.Drain();
        s.All<SetNextAttempt>().Should().ContainSingle().Which.Should().Be(new SetNextAttempt(Channel.Remote, 6, s.Now));
    }

    [Fact]
    public void While_exiting_no_pass_starts_and_jsmail_todos_reports_are_ignored_but_outstanding_results_are_taken()
    {
        var s = new SchedulerScript();
        s.Queue(1, Channel.Local, "a@local.test");
        s.Settle();
        s.Scheduler.Terminate();
        s.Scheduler.CanExit.Should().BeFalse("a delivery is outstanding");
        s.Queue(2, Channel.Local, "b@local.test");
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle();
        s.Result(Channel.Local, 0, 'K');
        s.Scheduler.CanExit.Should().BeTrue();
        s.Log.Should().Contain("status: local 0/10 remote 0/20 exitasap");
    }
}
