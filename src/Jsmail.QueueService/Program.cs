using System.Runtime.InteropServices;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.QueueService;

/// <summary>
/// jsmail-queued: the queue service (docs/jsmail-queued.md). Long-running;
/// takes the messages of server-mode jsmail-smtpd over a Unix socket and
/// queues each exactly as jsmail-queue would, committing several messages per
/// filesystem sync. No arguments. Exit codes: 0 after SIGTERM once everything
/// in flight is answered; 111 when it cannot start (the reason on stderr).
/// </summary>
public static class Program
{
    /// <summary>control/queuedcommitwait's default: 1 ms, a small part of a message's SMTP round trip.</summary>
    public const uint DefaultCommitWait = 1000;

    public static int Main(string[] args)
    {
        if (args.Length != 0) return Fail("usage: jsmail-queued (no arguments)");
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException e) { return Fail(e.Message); }

        if (ServiceIdentity.BecomeQueueOwner(home) is { } notOwner) return Fail(notOwner);
        Libc.Umask(0x1B); // 033, as jsmail-queue: files 0644
        if (Libc.Chdir(home) != 0 || Libc.Chdir("queue") != 0) return Fail($"cannot enter {home}/queue");

        using var queueDir = OwnedFd.Open(".", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        using var todoDir = OwnedFd.Open("todo", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (!queueDir.IsOpen || !todoDir.IsOpen) return Fail($"cannot open {home}/queue and its todo directory");

        var listener = ServiceSocket.Listen(home, out var problem);
        if (listener < 0) return Fail(problem);
        using var listening = new OwnedFd(listener);

        // The longest a sync is held for more messages, in µs (docs/jsmail-queued.md, "Pace"); 0 never holds.
        uint maxHold;
        try { maxHold = new ControlReader(home).ReadInt("queuedcommitwait", DefaultCommitWait); }
        catch (ControlReadException) { return Fail("cannot read control/queuedcommitwait"); }
        QueuedMetrics? metrics = null;
        Jsmail.Common.Metrics.MetricsResponder? responder = null;
        try
        {
            if (Jsmail.Common.Metrics.MetricsAddress.FromControl(new ControlReader(home), "queuedmetrics", Compat.IsQmail) is { } at)
            {
                metrics = new QueuedMetrics();
                responder = Jsmail.Common.Metrics.MetricsResponder.Start(at, metrics.Registry);
                Console.Error.WriteLine($"jsmail-queued: metrics on http://{responder.Endpoint}/metrics");
            }
        }
        catch (Exception e) when (e is ControlReadException or Jsmail.Common.Metrics.MetricsAddressException)
        {
            return Fail(e.Message); // names control/queuedmetrics itself
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return Fail("control/queuedmetrics: " + e.Message);
        }
        using var serving = responder;
        var committer = new GroupCommitter(queueDir.Fd, todoDir.Fd, maxHold, metrics);
        var server = new QueueServer(listener, ServiceIdentity.AllowedClients(), new MessageIntake(home, committer, Libc.Getpid()));
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            server.Stop();
        });
        Console.Error.WriteLine($"jsmail-queued: pid {Libc.Getpid()} uid {Libc.Geteuid()} serving {home}");
        server.Run();
        committer.Stop();
        Console.Error.WriteLine($"jsmail-queued: stopped after {committer.Syncs} syncs: {committer.Summary()}");
        return 0;
    }

    private static int Fail(string why)
    {
        Console.Error.WriteLine("jsmail-queued: fatal: " + why);
        return 111;
    }
}
