using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

public sealed partial class QueueManager
{
    /// <summary>Appends a permanent failure to bounce/&lt;id&gt;; keeps trying, as qmail does, since losing it loses the bounce.</summary>
    private void AddBounce(ulong id, byte[] recipient, byte[] report)
    {
        var block = BounceText.Block(recipient, report, _controls.VirtualDomains);
        var path = QueueLayout.Bounce(id);
        int fd;
        while ((fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180)) < 0)
        {
            ActivityLog.Line("alert: unable to append to bounce message; HELP! sleeping...");
            Thread.Sleep(10_000);
        }
        using var fdOwner = new OwnedFd(fd);
        while (!Libc.WriteAll(fd, block))
        {
            ActivityLog.Line("alert: unable to append to bounce message; HELP! sleeping...");
            Thread.Sleep(10_000);
        }
    }

    /// <summary>qmail's messdone: the message has no channel file left.</summary>
    private void CompleteMessage(ulong id)
    {
        string path;
        foreach (var c in Channels.Both)
        {
            path = Channels.PathOf(c, id);
            if (Libc.StatPath(path, out _) == 0) return;
            if (Libc.Errno != Errno.ENOENT) goto stat;
        }
        path = QueueLayout.Todo(id);
        if (Libc.StatPath(path, out _) == 0) return;
        if (Libc.Errno != Errno.ENOENT) goto stat;
        path = QueueLayout.Info(id);
        if (Libc.StatPath(path, out var info) != 0)
        {
            if (Libc.Errno == Errno.ENOENT) return;
            goto stat;
        }
        if (!InjectBounce(id)) goto fail;
        // before info/: a mark left behind would be taken for a later message's under the same inode (its time tells, too)
        if (Libc.Unlink(DelayMarkPath(id)) != 0 && Libc.Errno != Errno.ENOENT)
        {
            ActivityLog.Line($"warning: unable to unlink {DelayMarkPath(id)}; will try again later");
            goto fail;
        }
        ActivityLog.Line($"end msg {id}");
        if (Libc.Unlink(path) != 0)
        {
            ActivityLog.Line($"warning: unable to unlink {path}; will try again later");
            goto fail;
        }
        Libc.Unlink(RemoteParameters.PathOf(id)); // jsmail-rspawn's and the reports' parameters (most messages have none)
        Foop(id);
        _metrics?.Completed(info.MTimeSec, Now());
        // after the message's files: a mark a real qmail-send left, or one of a
        // message completed while held (one a crash leaves is stale: removed at start)
        HoldMark.Remove(id);
        return;
    stat:
        ActivityLog.Line($"warning: unable to stat {path}; will try again later");
    fail:
        _scheduler.CompleteFailed(id, Now());
    }

    /// <summary>Sends bounce/&lt;id&gt; as one bounce message, if there is one. False: try again later (logged).</summary>
    private bool InjectBounce(ulong id)
    {
        if (Info(id) is not var (sender, arrival)) return false;
        sender = Verp.StripMarker(sender);
        var route = BounceRoute.For(sender, _controls.DoubleBounceTo);
        if (ReportRequest(id, route) is { } dsn) return InjectReports(id, route.Recipient, arrival, dsn);
        // successes were kept for a report that is not sent after all (bounceformat changed)
        if (Libc.Unlink(SuccessPath(id)) != 0 && Libc.Errno != Errno.ENOENT) ActivityLog.Line($"warning: unable to unlink {SuccessPath(id)}");
        var bouncePath = QueueLayout.Bounce(id);
        if (Libc.StatPath(bouncePath, out _) != 0)
        {
            if (Libc.Errno == Errno.ENOENT) return true;
            ActivityLog.Line($"warning: unable to stat {bouncePath}");
            return false;
        }
        if (route.Kind == BounceKind.Discard)
        {
            ActivityLog.Line($"triple bounce: discarding {bouncePath}");
            _metrics?.Bounced(route.Kind);
        }
        else
        {
            var single = route.Kind == BounceKind.Single;
            // RFC 8689 §5: a REQUIRETLS message comes back as its header section only, and its bounce asks REQUIRETLS too
            var requireTls = RequiredTls(id);
            using var qq = QueueClient.Open(_home);
            if (qq.Pid < 0)
            {
                ActivityLog.Line("warning: unable to start qmail-queue, will try later");
                return false;
            }
            qq.Write(BounceText.Head(Now(), _controls.BounceFrom, _controls.BounceHost, route.Recipient, single));
            var ok = Copy(bouncePath, qq);
            qq.Write(requireTls ? BounceText.HeaderSeparator(single, sender) : BounceText.Separator(single, sender));
            ok = ok && (requireTls ? CopyHeader(QueueLayout.Mess(id), qq) : Copy(QueueLayout.Mess(id), qq));
            if (!ok)
            {
                qq.Dispose(); // qmail-queue sees no envelope and queues nothing
                Libc.Waitpid(qq.Pid, out _);
            }
            if (!ok || !qq.Close(new QueueEnvelope(route.Sender, [route.Recipient], requireTls ? RequireTlsExtension() : null)).Success)
            {
                ActivityLog.Line("warning: trouble injecting bounce message, will try later");
                return false;
            }
            ActivityLog.Line($"bounce msg {id} qp {qq.Pid}");
            _metrics?.Bounced(route.Kind);
        }
        if (Libc.Unlink(bouncePath) != 0)
        {
            ActivityLog.Line($"warning: unable to unlink {bouncePath}");
            return false;
        }
        return true;
    }

    private static bool Copy(string path, QueueClient qq)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return false;
        using var fdOwner = new OwnedFd(fd);
        var buf = new byte[65536];
        while (true)
        {
            var n = Libc.Read(fd, buf);
            if (n < 0) return false;
            if (n == 0) return true;
            qq.Write(buf.AsSpan(0, n));
        }
    }

    /// <summary>
    /// The message's header section only, up to and including the empty line
    /// that ends it (RFC 8689 §5, for a REQUIRETLS message), read no further:
    /// the body never leaves the queue. A message that is all header is ended
    /// with a line end.
    /// </summary>
    private static bool CopyHeader(string path, QueueClient qq)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return false;
        using var fdOwner = new OwnedFd(fd);
        var buf = new byte[65536];
        var previous = (byte)'\n'; // a message that starts with an empty line has an empty header section
        while (true)
        {
            var n = Libc.Read(fd, buf);
            if (n < 0) return false;
            if (n == 0)
            {
                if (previous != '\n') qq.Write("\n"u8);
                return true;
            }
            for (var i = 0; i < n; i++)
            {
                if (buf[i] == '\n' && previous == '\n')
                {
                    qq.Write(buf.AsSpan(0, i + 1));
                    return true;
                }
                previous = buf[i];
            }
            qq.Write(buf.AsSpan(0, n));
        }
    }
}
