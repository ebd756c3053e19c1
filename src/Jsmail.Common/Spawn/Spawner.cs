using Jsmail.Common.Os;

namespace Jsmail.Common.Spawn;

/// <summary>
/// The common spawner loop of qmail-lspawn and qmail-rspawn (interfaces §4.1):
/// announces the slot limit, reads delivery commands, checks them in qmail's
/// order, starts one child per delivery with the message on fd 0 and a report
/// pipe on fds 1 and 2, and writes each report once the child has exited and
/// nothing holds the pipe any more. Runs until its input ends and every
/// delivery has reported. The caller has already changed into queue/mess.
/// With <paramref name="offerGroups"/> (asked by jsmail-start) and a channel
/// that takes several recipients it also speaks jsmail's grouped commands
/// (docs/spawn-protocol.md); otherwise exactly qmail's protocol.
/// </summary>
public sealed class Spawner(ISpawnChannel channel, uint queueOwner, int input = 0, int output = 1, bool offerGroups = false)
{
    public const string TooLongTail = "\nError report too long, sorry.\n";

    private sealed class Delivery
    {
        public int Pid, ReadFd = -1, PidFd = -1, Status, Recipients = 1;
        public bool Eof, Reaped;
        public readonly List<byte> Output = [];
    }

    private readonly Delivery?[] _slots = new Delivery?[SpawnerSide.SlotLimit];
    private bool _writing = true;

    /// <summary>Runs the loop; returns the exit code (0).</summary>
    public int Run()
    {
        var grouped = offerGroups && channel.MaxRecipients > 1;
        // One write: jsmail-send finds the announcement right behind the slot byte, or knows there is none.
        Send(grouped ? [SpawnerSide.SlotLimit, .. GroupedDelivery.Announcement(Math.Min(channel.MaxRecipients, GroupedDelivery.MaxRecipients))]
            : [SpawnerSide.SlotLimit]);
        var decoder = new SpawnCommandDecoder(grouped);
        var commands = new List<SpawnCommand>();
        var reading = true;
        var buffer = new byte[1024];
        var polls = new List<(Libc.PollFd Fd, Delivery? Owner, bool IsPid)>();
        while (reading || _slots.Any(s => s != null))
        {
            polls.Clear();
            if (reading) polls.Add((new Libc.PollFd { Fd = input, Events = Libc.POLLIN }, null, false));
            foreach (var d in _slots)
            {
                if (d == null) continue;
                if (!d.Eof) polls.Add((new Libc.PollFd { Fd = d.ReadFd, Events = Libc.POLLIN }, d, false));
                if (!d.Reaped && d.PidFd >= 0) polls.Add((new Libc.PollFd { Fd = d.PidFd, Events = Libc.POLLIN }, d, true));
            }
            var fds = polls.Select(p => p.Fd).ToArray();
            if (fds.Length > 0 && Libc.Poll(fds, -1) < 0) continue;

            for (var i = 0; i < fds.Length; i++)
            {
                if (fds[i].Revents == 0) continue;
                var owner = polls[i].Owner;
                if (owner == null)
                {
                    var n = Libc.Read(input, buffer);
                    if (n <= 0)
                    {
                        if (n == 0 || Libc.Errno != Errno.EAGAIN) reading = false;
                        continue;
                    }
                    decoder.Feed(buffer.AsSpan(0, n), commands);
                    foreach (var c in commands) Execute(c);
                    commands.Clear();
                }
                else if (polls[i].IsPid) Reap(owner, wait: true);
                else ReadOutput(owner, buffer);
            }
            for (var s = 0; s < _slots.Length; s++)
                if (_slots[s] is { } d && d.Eof && FinishReaping(d)) Report((byte)s, d);
        }
        return 0;
    }

    private void Execute(SpawnCommand c)
    {
        if (c.Slot >= SpawnerSide.SlotLimit) { Refuse(c, SpawnerSide.SlotTooBig); return; }
        if (_slots[c.Slot] != null) { Refuse(c, SpawnerSide.SlotInUse); return; }
        if (SpawnerSide.CheckMessageId(c.MessageId) is { } bad) { Refuse(c, bad); return; }
        if (GroupedDelivery.CheckRecipients(c.Recipients, channel.MaxRecipients) is { } mixed) { Refuse(c, mixed); return; }
        var at = c.Recipient.AsSpan().LastIndexOf((byte)'@');
        if (at < 0) { Refuse(c, SpawnerSide.NoHost); return; }

        var message = Libc.Open(c.MessageId, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (message < 0) { Refuse(c, SpawnerSide.CannotOpen); return; }
        try
        {
            if (Libc.Fstat(message, out var st) != 0) { Refuse(c, SpawnerSide.CannotFstat); return; }
            if (!st.IsRegular) { Refuse(c, SpawnerSide.WrongType); return; }
            if (st.Uid != queueOwner) { Refuse(c, SpawnerSide.WrongOwner); return; }
            // out of descriptors from 10 up: the message cannot be handed on, which is
            // temporary (never a -1 passed to the child, whose dup2 would fail for good)
            message = Libc.MoveHigh(message);
            if (message < 0) { Refuse(c, SpawnerSide.CannotOpen); return; }
            if (!Libc.Pipe(out var readEnd, out var writeEnd)) { Refuse(c, SpawnerSide.CannotPipe); return; }
            int pid;
            try { pid = channel.Start(message, writeEnd, c, at); }
            catch (Exception e) when (e is SpawnException or IOException)
            {
                // a file the channel reads on the way (a control file, say) that cannot be read
                // now is as temporary as a fork that failed: never the end of the spawner
                var errno = e switch { SpawnException s => s.Errno, Control.ControlReadException r => r.Errno, _ => Errno.EIO };
                Libc.Close(readEnd);
                if (channel.StartFailed(errno) is { } report) Refuse(c, report);
                else Refuse(c, SpawnerSide.CannotFork);
                return;
            }
            finally { Libc.Close(writeEnd); }
            var pidFd = channel.EndFd(pid);
            if (pidFd >= 0) Libc.Fcntl(pidFd, Libc.F_SETFD, Libc.FD_CLOEXEC);
            _slots[c.Slot] = new Delivery { Pid = pid, ReadFd = readEnd, PidFd = pidFd, Recipients = c.Recipients.Count };
        }
        finally { Libc.Close(message); }
    }

    private void ReadOutput(Delivery d, byte[] buffer)
    {
        var n = Libc.Read(d.ReadFd, buffer);
        if (n < 0 && Libc.Errno == Errno.EAGAIN) return;
        if (n <= 0)
        {
            d.Eof = true;
            Libc.Close(d.ReadFd);
            return;
        }
        // Keep one byte past the limit: enough to know the report must be cut.
        var keep = channel.OutputLimit is { } limit ? Math.Min(n, limit + 1 - d.Output.Count) : n;
        for (var i = 0; i < keep; i++) d.Output.Add(buffer[i]);
    }

    private void Reap(Delivery d, bool wait)
    {
        if (d.Reaped) return;
        var r = channel.Wait(d.Pid, out var status, wait ? 0 : Libc.WNOHANG);
        if (r == d.Pid) { d.Status = status; d.Reaped = true; }
        else if (r < 0) { d.Status = 0x7f; d.Reaped = true; } // lost child: reported as a crash
        if (d.Reaped && d.PidFd >= 0) { Libc.Close(d.PidFd); d.PidFd = -1; }
    }

    /// <summary>After EOF on the pipe: without a pidfd the child is waited for here.</summary>
    private bool FinishReaping(Delivery d)
    {
        if (!d.Reaped && d.PidFd < 0) Reap(d, wait: true);
        return d.Reaped;
    }

    private void Report(byte slot, Delivery d)
    {
        var output = d.Output.ToArray();
        if (channel.OutputLimit is { } limit && output.Length > limit)
        {
            var keep = limit - TooLongTail.Length - 3;
            output = [.. output.AsSpan(0, keep), .. System.Text.Encoding.ASCII.GetBytes(TooLongTail)];
        }
        _slots[slot] = null;
        var results = new List<byte>();
        foreach (var report in channel.Reports(d.Status, output, d.Recipients)) results.AddRange(SpawnerSide.EncodeResult(slot, report));
        Send(results.ToArray());
    }

    private void Refuse(SpawnCommand c, string report) => Refuse(c, System.Text.Encoding.ASCII.GetBytes(report));

    /// <summary>A refused command gets the refusal once per recipient (one in qmail's protocol).</summary>
    private void Refuse(SpawnCommand c, byte[] report)
    {
        var one = SpawnerSide.EncodeResult(c.Slot, report);
        var all = new byte[one.Length * c.Recipients.Count];
        for (var i = 0; i < c.Recipients.Count; i++) one.CopyTo(all, i * one.Length);
        Send(all);
    }

    private void Send(ReadOnlySpan<byte> bytes)
    {
        if (_writing && !Libc.WriteAll(output, bytes)) _writing = false;
    }
}
