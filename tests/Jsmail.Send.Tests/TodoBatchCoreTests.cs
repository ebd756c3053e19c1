using Jsmail.Send.Todo;

namespace Jsmail.Send.Tests;

/// <summary>jsmail-todo's group commit core, by scripts of events (no queue, no processes).</summary>
public class TodoBatchCoreTests
{
    private static TodoAction Sync => new(TodoStep.Sync);
    private static TodoAction Clean(ulong id) => new(TodoStep.Clean, id);
    private static TodoAction Announce(ulong id, char code) => new(TodoStep.Announce, id, (byte)code);

    [Fact]
    public void A_lone_message_is_synced_cleaned_and_announced_as_soon_as_the_scan_ends()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        core.Prepared(7, (byte)'L').Should().BeEmpty("nothing is durable yet");
        core.EndOfBatch().Should().Equal(Sync);
        core.Synced(true).Should().Equal(Clean(7));
        core.Cleaned(7, (byte)'+').Should().Equal(Announce(7, 'L'));
        core.Waiting.Should().Be(0);
        core.EndOfBatch().Should().BeEmpty("nothing is left to commit");
    }

    [Fact]
    public void A_burst_shares_one_sync_and_each_message_is_announced_only_after_its_own_link_is_removed()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        foreach (var (id, code) in new[] { (1UL, 'L'), (2UL, 'R'), (3UL, 'B'), (4UL, 'X') })
            core.Prepared(id, (byte)code).Should().BeEmpty();
        core.Waiting.Should().Be(4);
        core.EndOfBatch().Should().Equal(Sync);
        core.Synced(true).Should().Equal(Clean(1));
        core.Cleaned(1, (byte)'+').Should().Equal(Announce(1, 'L'), Clean(2));
        core.Cleaned(2, (byte)'+').Should().Equal(Announce(2, 'R'), Clean(3));
        core.Cleaned(3, (byte)'+').Should().Equal(Announce(3, 'B'), Clean(4));
        core.Cleaned(4, (byte)'+').Should().Equal(Announce(4, 'X'));
        core.Waiting.Should().Be(0);

        core.Prepared(5, (byte)'L').Should().BeEmpty("the next scan gathers a new batch");
        core.EndOfBatch().Should().Equal(Sync);
    }

    [Fact]
    public void A_full_batch_is_committed_without_waiting_for_the_end_of_the_scan()
    {
        var core = new TodoBatchCore(3, preparedDurable: false);
        core.Prepared(1, (byte)'L').Should().BeEmpty();
        core.Prepared(2, (byte)'L').Should().BeEmpty();
        core.Prepared(3, (byte)'L').Should().Equal(Sync);
        core.Synced(true).Should().Equal(Clean(1));
        core.Cleaned(1, (byte)'+').Should().Equal(Announce(1, 'L'), Clean(2));
        core.Cleaned(2, (byte)'+').Should().Equal(Announce(2, 'L'), Clean(3));
        core.Cleaned(3, (byte)'+').Should().Equal(Announce(3, 'L'));
        core.Prepared(4, (byte)'R').Should().BeEmpty("the scan goes on into the next batch");
        core.EndOfBatch().Should().Equal(Sync);
    }

    [Fact]
    public void A_failed_sync_abandons_the_whole_batch_and_announces_nothing()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        core.Prepared(1, (byte)'L');
        core.Prepared(2, (byte)'R');
        core.EndOfBatch().Should().Equal(Sync);
        core.Synced(false).Should().Equal(new TodoAction(TodoStep.Abandon, 1), new TodoAction(TodoStep.Abandon, 2));
        core.Waiting.Should().Be(0);
        core.EndOfBatch().Should().BeEmpty("the abandoned messages stay in todo/ for the next scan, not in the core");
        core.Prepared(1, (byte)'L').Should().BeEmpty("the next scan may prepare them again");
    }

    [Fact]
    public void A_link_jsmail_clean_could_not_remove_is_not_announced_and_the_rest_go_on()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        core.Prepared(1, (byte)'L');
        core.Prepared(2, (byte)'L');
        core.EndOfBatch();
        core.Synced(true).Should().Equal(Clean(1));
        core.Cleaned(1, (byte)'!').Should().Equal(Clean(2));
        core.Cleaned(2, (byte)'+').Should().Equal(Announce(2, 'L'));
    }

    [Fact]
    public void Losing_jsmail_clean_stops_the_batch_with_the_rest_unannounced()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        foreach (var id in new ulong[] { 1, 2, 3 }) core.Prepared(id, (byte)'L');
        core.EndOfBatch();
        core.Synced(true);
        core.Cleaned(1, (byte)'+').Should().Equal(Announce(1, 'L'), Clean(2));
        core.Cleaned(2, null).Should().Equal(new TodoAction(TodoStep.Stop));
        core.Waiting.Should().Be(0);
        core.EndOfBatch().Should().BeEmpty();
    }

    [Fact]
    public void In_qmail_mode_each_message_is_committed_alone_at_once_without_a_batch_sync()
    {
        var core = new TodoBatchCore(64, preparedDurable: true);
        core.Prepared(1, (byte)'B').Should().Equal(Clean(1));
        core.Cleaned(1, (byte)'+').Should().Equal(Announce(1, 'B'));
        core.Prepared(2, (byte)'L').Should().Equal(Clean(2));
        core.Cleaned(2, (byte)'+').Should().Equal(Announce(2, 'L'));
        core.EndOfBatch().Should().BeEmpty();
    }

    [Fact]
    public void Events_out_of_turn_are_refused()
    {
        var core = new TodoBatchCore(64, preparedDurable: false);
        core.Invoking(c => c.Synced(true)).Should().Throw<InvalidOperationException>("no sync was asked for");
        core.Prepared(1, (byte)'L');
        core.EndOfBatch();
        core.Invoking(c => c.Prepared(2, (byte)'L')).Should().Throw<InvalidOperationException>("a batch is being synced");
        core.Invoking(c => c.Cleaned(1, (byte)'+')).Should().Throw<InvalidOperationException>("no clean was asked for");
        core.Synced(true);
        core.Invoking(c => c.Cleaned(9, (byte)'+')).Should().Throw<InvalidOperationException>("message 1's clean is outstanding");
    }
}
