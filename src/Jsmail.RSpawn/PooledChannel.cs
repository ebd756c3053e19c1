using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Remote;
using Jsmail.Common.Spawn;

namespace Jsmail.RSpawn;

/// <summary>
/// jsmail-rspawn's pooled mode: a delivery is made by a thread of this process
/// with jsmail-remote's own code (Jsmail.Common.Remote) over a session from
/// the <see cref="SessionPool"/>, and writes exactly what jsmail-remote would
/// have written to the report pipe, so the spawner's reports are the same.
/// Send-time processors (control/remoteprocessors) that are all the shipped
/// DKIM signer (<see cref="ShippedSigner"/>) are run in-process by the
/// delivery (<see cref="PooledSigning"/>); with any other line in the list a
/// delivery still runs jsmail-remote (<paramref name="perProcess"/>), which
/// runs the processors per message.
/// </summary>
internal sealed class PooledChannel(RemoteChannel perProcess, DeliveryEnvironment parameters, string home, SessionPool pool)
    : ISpawnChannel
{
    private readonly Dictionary<int, (Thread Thread, PooledDelivery Delivery)> _running = [];
    private int _lastId = -1;

    public int? OutputLimit => null;

    public int MaxRecipients => perProcess.MaxRecipients;

    public int Start(int messageFd, int reportFd, SpawnCommand command, int at)
    {
        // Everything that can fail here fails as a SpawnException (a temporary refusal): any
        // other exception would end jsmail-rspawn, and with it the reports of the deliveries
        // in flight, whose messages the peer already has (sent again: duplicates).
        List<byte[]> processors;
        try { processors = new ControlReader(home).ReadList(SendTimeProcessing.ProcessorsFile); }
        catch (ControlReadException e) { throw new SpawnException("control/" + SendTimeProcessing.ProcessorsFile, e.Errno); }
        if (!processors.All(line => ShippedSigner.Is(line, home))) return perProcess.Start(messageFd, reportFd, command, at);
        var environment = parameters.For(messageFd, command);
        // The spawner closes both once we return: the thread keeps its own copies (never inherited by children).
        var message = Libc.Fcntl(messageFd, Libc.F_DUPFD_CLOEXEC, 3);
        var errno = Libc.Errno;
        var report = message < 0 ? -1 : Libc.Fcntl(reportFd, Libc.F_DUPFD_CLOEXEC, 3);
        if (message >= 0) errno = Libc.Errno;
        if (message < 0 || report < 0)
        {
            // errno taken before the close: a close that succeeds leaves 0 there, and an
            // errno of 0 read as permanent once bounced messages as "Unable to run qmail-remote"
            if (message >= 0) Libc.Close(message);
            throw new SpawnException("dup", errno);
        }
        var host = command.Recipient[(at + 1)..];
        var delivery = new PooledDelivery(pool, home, host, command.Sender, command.Recipients,
            DeliveryParameters.FromEntries(environment, command.Recipients.Count), processors, message, report);
        var thread = new Thread(delivery.Run) { IsBackground = true, Name = "delivery" };
        thread.Start();
        var id = --_lastId;
        if (id >= -1) id = _lastId = -2; // wrapped: ids stay negative, never a pid
        _running[id] = (thread, delivery);
        return id;
    }

    /// <summary>Ours end when their report pipe does (the thread closes it last); children have pidfds.</summary>
    public int EndFd(int pid) => _running.ContainsKey(pid) ? -1 : Libc.PidfdOpen(pid);

    public int Wait(int pid, out int status, int options)
    {
        if (!_running.TryGetValue(pid, out var running)) return Libc.Waitpid(pid, out status, options);
        status = 0;
        if ((options & Libc.WNOHANG) != 0 && running.Thread.IsAlive) return 0;
        running.Thread.Join();
        _running.Remove(pid);
        if (running.Delivery.Crashed) status = Libc.SIGABRT; // the wait status of a process killed by that signal
        return pid;
    }

    public byte[] Report(int waitStatus, ReadOnlySpan<byte> output) => perProcess.Report(waitStatus, output);

    public byte[][] Reports(int waitStatus, ReadOnlySpan<byte> output, int recipients) =>
        perProcess.Reports(waitStatus, output, recipients);

    public byte[] StartFailed(int errno) => perProcess.StartFailed(errno);
}
