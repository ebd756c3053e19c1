using Jsmail.Common.Queue;
using static Jsmail.Common.Queue.GroupCommitStep;

namespace Jsmail.Queue.Tests;

/// <summary>jsmail-queued's group commit, by scripts of events: what is synced, linked and answered, and when.</summary>
public class GroupCommitCoreTests
{
    private static GroupCommitAction A(GroupCommitStep step, long ticket = 0, int exit = 0) => new(step, ticket, exit);

    [Fact]
    public void A_batch_is_synced_once_linked_synced_once_triggered_once_and_only_then_answered()
    {
        var core = new GroupCommitCore();
        core.Prepared([1, 2, 3]).Should().Equal(A(SyncFiles));
        core.FilesSynced(true).Should().Equal(A(Link, 1), A(Link, 2), A(Link, 3));
        core.Linked(1, 0).Should().BeEmpty();
        core.Linked(3, 0).Should().BeEmpty();
        core.Linked(2, 0).Should().Equal(A(SyncLinks));
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 1, 0), A(Answer, 2, 0), A(Answer, 3, 0));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void Messages_prepared_during_a_batch_gather_into_the_next_one()
    {
        var core = new GroupCommitCore();
        core.Prepared([1]).Should().Equal(A(SyncFiles));
        core.Prepared([2]).Should().BeEmpty("a batch is in progress: 2 waits");
        core.Prepared([3]).Should().BeEmpty();
        core.FilesSynced(true).Should().Equal([A(Link, 1)], "2 and 3 came after the sync began: not durable yet");
        core.Linked(1, 0).Should().Equal([A(SyncLinksAndFiles)], "the sync 1's link needs makes 2's and 3's files durable too");
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 1, 0), A(Link, 2), A(Link, 3));
        core.Linked(2, 0).Should().BeEmpty();
        core.Linked(3, 0).Should().Equal(A(SyncLinks));
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 2, 0), A(Answer, 3, 0));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void Messages_prepared_while_the_files_sync_wait_for_the_next_sync_and_a_failed_shared_sync_fails_both_batches()
    {
        var core = new GroupCommitCore();
        core.Prepared([1]).Should().Equal(A(SyncFiles));
        core.Prepared([2]).Should().BeEmpty();
        core.FilesSynced(true).Should().Equal(A(Link, 1));
        core.Linked(1, 0).Should().Equal(A(SyncLinksAndFiles));
        core.Prepared([3]).Should().BeEmpty("3 came after the shared sync began: it waits for the one after");
        core.LinksSynced(false).Should().Equal(
            A(PullTrigger), A(Answer, 1, 53), A(Abandon, 2, 53), A(Answer, 2, 53), A(SyncFiles));
        core.FilesSynced(true).Should().Equal(A(Link, 3));
        core.Linked(3, 0).Should().Equal(A(SyncLinks));
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 3, 0));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void Files_that_cannot_be_made_durable_are_removed_and_answered_53_never_linked()
    {
        var core = new GroupCommitCore();
        core.Prepared([1, 2]);
        core.FilesSynced(false).Should().Equal(A(Abandon, 1, 53), A(Abandon, 2, 53), A(Answer, 1, 53), A(Answer, 2, 53));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void A_failed_link_is_answered_66_and_the_others_still_commit()
    {
        var core = new GroupCommitCore();
        core.Prepared([1, 2]);
        core.FilesSynced(true);
        core.Linked(1, QueueExit.TodoProblem).Should().BeEmpty();
        core.Linked(2, 0).Should().Equal(A(SyncLinks));
        core.LinksSynced(true).Should().Equal(A(PullTrigger), A(Answer, 1, 66), A(Answer, 2, 0));
    }

    [Fact]
    public void When_no_link_was_made_nothing_is_synced_or_triggered()
    {
        var core = new GroupCommitCore();
        core.Prepared([1]);
        core.FilesSynced(true);
        core.Linked(1, QueueExit.TodoProblem).Should().Equal(A(Answer, 1, 66));
        core.Idle.Should().BeTrue();
    }

    [Fact]
    public void Links_that_cannot_be_made_durable_are_never_answered_success()
    {
        var core = new GroupCommitCore();
        core.Prepared([1, 2]);
        core.FilesSynced(true);
        core.Linked(1, 0);
        core.Linked(2, QueueExit.TodoProblem);
        core.LinksSynced(false).Should().Equal(A(PullTrigger), A(Answer, 1, 53), A(Answer, 2, 66));
    }

    [Fact]
    public void Events_out_of_order_are_refused()
    {
        var core = new GroupCommitCore();
        core.Invoking(c => c.FilesSynced(true)).Should().Throw<InvalidOperationException>();
        core.Prepared([1]);
        core.Invoking(c => c.Linked(1, 0)).Should().Throw<InvalidOperationException>();
        core.FilesSynced(true);
        core.Invoking(c => c.Linked(7, 0)).Should().Throw<InvalidOperationException>();
    }
}
