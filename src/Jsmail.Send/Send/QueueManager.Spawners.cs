using Jsmail.Common.Os;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

public sealed partial class QueueManager
{
    private readonly List<DeliveryResult> _results = new();
    private readonly byte[] _readBuffer = new byte[2048];

    private void WriteCommand(Channel c)
    {
        var s = _spawners[(int)c];
        if (!_scheduler[c].SpawnAlive || s.Command == null) return;
        switch (s.Write())
        {
            case SpawnerLink.WriteOutcome.Done: _scheduler.CommandWritten(c); break;
            case SpawnerLink.WriteOutcome.Lost: _scheduler.SpawnerLost(c); Apply(); break;
        }
    }

    private void ReadResults(Channel c)
    {
        var n = Libc.Read(_spawners[(int)c].FdIn, _readBuffer);
        if (n < 0) return;
        if (n == 0) { _scheduler.SpawnerLost(c); Apply(); return; }
        Results(c, _readBuffer.AsSpan(0, n));
    }

    private void Results(Channel c, ReadOnlySpan<byte> bytes)
    {
        _results.Clear();
        _spawners[(int)c].Decoder.Feed(bytes, _results);
        _scheduler.Results(c, _results);
        Apply();
    }
}
