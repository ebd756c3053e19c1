using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;
using static Jsmail.Send.Tests.Scheduling.SchedulerScript;

namespace Jsmail.Send.Tests.Scheduling;

/// <summary>
/// What the scheduler tells the metrics (docs/metrics.md): each recipient's
/// result as it took it, with its channel and slot, so that the counts agree
/// with the log lines, a dying job's deferral counted as the failure it becomes.
/// </summary>
public class ReportedResultsTests
{
    [Fact]
    public void Each_recipients_result_is_reported_as_the_log_says_it()
    {
        var old = new SchedulerScript(lifetime: 3600) { Now = Birth + 3601 };
        var reported = new List<(Channel, int, char)>();
        old.Scheduler.Reported = (c, slot, status) => reported.Add((c, slot, (char)status));
        old.Queue(4, Channel.Local, "slow@local.test", "ok@local.test");
        old.Queue(5, Channel.Remote, "far@remote.test");
        old.Settle();

        old.Result(Channel.Local, 0, 'Z', "busy");
        old.Result(Channel.Local, 1, 'K');
        old.Result(Channel.Remote, 0, 'X', "mangled");

        reported.Should().Equal((Channel.Local, 0, 'D'), (Channel.Local, 1, 'K'), (Channel.Remote, 0, 'X'));
        old.Log.Should().Contain(l => l.StartsWith("delivery 1: failure: busy"), "the deferral past the lifetime is a failure in the log too");
    }

    [Fact]
    public void A_grouped_deliverys_results_are_reported_one_per_recipient()
    {
        var s = new SchedulerScript(remoteGroup: 3);
        var reported = new List<char>();
        s.Scheduler.Reported = (_, _, status) => reported.Add((char)status);
        s.Queue(7, Channel.Remote, "a@x.test", "b@x.test", "c@x.test");
        s.Settle();
        s.All<StartDelivery>().Should().ContainSingle().Which.Recipients.Should().HaveCount(3);

        s.Results(Channel.Remote, new DeliveryResult(0, (byte)'K', B("ok")), new DeliveryResult(0, (byte)'Z', B("later")),
            new DeliveryResult(0, (byte)'D', B("no")));

        reported.Should().Equal('K', 'Z', 'D');
    }
}
