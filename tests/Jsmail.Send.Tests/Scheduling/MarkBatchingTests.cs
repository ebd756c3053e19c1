using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;
using static Jsmail.Send.Tests.Scheduling.SchedulerScript;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>
/// Issue 16 §5 on jsmail-send's side. qmail marks each finished recipient by
/// opening its channel file and rewriting one byte, without a sync (a mark lost
/// in a crash means that recipient is delivered again, which qmail allows);
/// jsmail-send does the same, so there is no sync to batch. What the core
/// batches is the file writes: the results read together (a grouped delivery's,
/// or several deliveries of one message) are marked with one open of the file.
/// </summary>
public class MarkBatchingTests
{
    [Fact]
    public void Fifty_results_of_one_grouped_delivery_are_marked_with_one_open_of_the_channel_file()
    {
        var s = new SchedulerScript(remoteGroup: 50);
        var recipients = Enumerable.Range(0, 50).Select(i => $"u{i}@x.test").ToArray();
        s.Queue(21, Channel.Remote, recipients);
        s.Settle();
        var offsets = recipients.Select(r => s.Offset(Channel.Remote, 21, r)).ToArray();
        s.Clear();

        s.Results(Channel.Remote, recipients.Select(_ => new DeliveryResult(0, (byte)'K', B("250 ok"))).ToArray());

        var marks = s.All<MarkDone>();
        marks.Should().ContainSingle("one open of remote/<id> instead of 50");
        marks[0].RecordOffsets.Should().Equal(offsets);
        s.Done.FindIndex(a => a is RemoveChannelFile).Should().BeGreaterThan(s.Done.IndexOf(marks[0]), "the file goes only after its marks");
    }

    [Fact]
    public void Results_of_several_messages_read_together_mark_each_channel_file_once_and_later_results_again()
    {
        var s = new SchedulerScript();
        s.Queue(1, Channel.Local, "a@local.test", "b@local.test");
        s.Queue(2, Channel.Local, "c@local.test");
        s.Settle();
        s.All<StartDelivery>().Select(d => (d.MessageId, d.Slot)).Should().Equal((1UL, 0), (1UL, 1), (2UL, 2));
        s.Clear();

        s.Results(Channel.Local, new DeliveryResult(0, (byte)'K', B("a")), new DeliveryResult(2, (byte)'D', B("c")));
        s.Result(Channel.Local, 1, 'K', "b");

        s.All<MarkDone>().Select(m => (m.MessageId, m.RecordOffsets.Length)).Should().Equal((1UL, 1), (2UL, 1), (1UL, 1));
        s.Log.Where(l => l.StartsWith("delivery")).Should().Equal("delivery 1: success: a", "delivery 3: failure: c", "delivery 2: success: b");
    }

    [Fact]
    public void A_deferral_is_never_marked()
    {
        var s = new SchedulerScript(remoteGroup: 50);
        s.Queue(3, Channel.Remote, "a@x.test", "b@x.test");
        s.Settle();
        s.Results(Channel.Remote, new DeliveryResult(0, (byte)'Z', B("451")), new DeliveryResult(0, (byte)'X', B("?")));
        s.All<MarkDone>().Should().BeEmpty();
        s.Log.Should().Contain("delivery 2: report mangled, will defer");
    }
}
