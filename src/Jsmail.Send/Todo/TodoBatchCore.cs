namespace Jsmail.Send.Todo;

public enum TodoStep
{
    /// <summary>Make the files of every message prepared in the batch durable with one sync; answer with Synced.</summary>
    Sync,
    /// <summary>The sync failed: this message stays in todo/ for the next scan (log it).</summary>
    Abandon,
    /// <summary>Ask jsmail-clean to remove this message's todo link; answer with Cleaned.</summary>
    Clean,
    /// <summary>Tell jsmail-send the message is preprocessed: <c>D&lt;Code&gt;&lt;id&gt;</c>.</summary>
    Announce,
    /// <summary>jsmail-clean is gone: nothing more can be committed; stop.</summary>
    Stop,
}

/// <summary>One thing for the driver to do; Id and Code only where the step names a message.</summary>
public readonly record struct TodoAction(TodoStep Step, ulong Id = 0, byte Code = 0);

/// <summary>
/// jsmail-todo's group commit as a pure state machine (docs/jsmail-send.md,
/// "Group commit"): prepared messages in, sync, clean and announce actions
/// out; the driver does the I/O and feeds each result back. The messages a
/// scan prepares gather into a batch until the scan has no more (a lone message
/// waits for no company) or the batch holds <c>maxBatch</c>; then one sync
/// makes all their info/local/remote files durable, and only then is each
/// todo link removed and each message announced, in order. qmail's rule,
/// kept per message: announced only after its todo link is gone, and that
/// only after its files are durable. A crash at any instant leaves every
/// unannounced message in todo/, redone at the next scan.
/// </summary>
/// <param name="maxBatch">the most messages one sync covers</param>
/// <param name="preparedDurable">
/// the driver syncs each message's files as it prepares them (qmail's way, for
/// JSMAIL_COMPAT=qmail): no Sync step, and each message is committed alone at once
/// </param>
public sealed class TodoBatchCore(int maxBatch, bool preparedDurable)
{
    private enum Phase { Gathering, Syncing, Cleaning, Stopped }

    private Phase _phase;
    private readonly List<(ulong Id, byte Code)> _batch = [];
    /// <summary>The batch entry whose Clean is outstanding while Cleaning.</summary>
    private int _cleaning;

    /// <summary>Prepared messages not committed yet (none after Stop).</summary>
    public int Waiting => _phase == Phase.Stopped ? 0 : _batch.Count - _cleaning;

    /// <summary>
    /// A message's files are written (synced too when preparedDurable); code is
    /// its Preprocessed.Code. A full batch (or, preparedDurable, any) is committed now.
    /// </summary>
    public List<TodoAction> Prepared(ulong id, byte code)
    {
        Expect(Phase.Gathering);
        _batch.Add((id, code));
        if (preparedDurable) return StartCleaning();
        return _batch.Count >= maxBatch ? StartSyncing() : [];
    }

    /// <summary>The driver prepares no more for now (the scan is done, or it must pause): commit what gathered.</summary>
    public List<TodoAction> EndOfBatch()
    {
        if (_phase != Phase.Gathering || _batch.Count == 0) return [];
        return preparedDurable ? StartCleaning() : StartSyncing();
    }

    public List<TodoAction> Synced(bool ok)
    {
        Expect(Phase.Syncing);
        if (ok) return StartCleaning();
        var actions = new List<TodoAction>(_batch.Count);
        foreach (var (id, _) in _batch) actions.Add(new(TodoStep.Abandon, id));
        _batch.Clear();
        _phase = Phase.Gathering;
        return actions;
    }

    /// <summary>jsmail-clean's reply to the outstanding Clean: '+' done, another byte not done, null gone.</summary>
    public List<TodoAction> Cleaned(ulong id, byte? reply)
    {
        Expect(Phase.Cleaning);
        var (expected, code) = _batch[_cleaning];
        if (id != expected) throw new InvalidOperationException($"Cleaned({id}) while cleaning {expected}");
        if (reply == null)
        {
            _phase = Phase.Stopped;
            return [new(TodoStep.Stop)];
        }
        var actions = new List<TodoAction>(2);
        // Not '+': the link may still be there, so the message is not announced; the next scan redoes it.
        if (reply == (byte)'+') actions.Add(new(TodoStep.Announce, id, code));
        _cleaning++;
        if (_cleaning < _batch.Count) actions.Add(new(TodoStep.Clean, _batch[_cleaning].Id));
        else
        {
            _batch.Clear();
            _cleaning = 0;
            _phase = Phase.Gathering;
        }
        return actions;
    }

    private List<TodoAction> StartSyncing()
    {
        _phase = Phase.Syncing;
        return [new(TodoStep.Sync)];
    }

    private List<TodoAction> StartCleaning()
    {
        _phase = Phase.Cleaning;
        _cleaning = 0;
        return [new(TodoStep.Clean, _batch[0].Id)];
    }

    private void Expect(Phase phase)
    {
        if (_phase != phase) throw new InvalidOperationException($"event for {phase} while {_phase}");
    }
}
