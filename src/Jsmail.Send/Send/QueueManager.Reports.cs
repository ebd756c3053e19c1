using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Send.Send.Dsn;

namespace Jsmail.Send.Send;

/// <summary>
/// Delivery status notifications (RFC 3461/3464, docs/jsmail-send.md): the
/// successes kept for them and the reports sent in place of qmail's bounce.
/// </summary>
public sealed partial class QueueManager
{
    /// <summary>Successes a sender asked to hear of, in bounce-file blocks: jsmail's alone, a qmail-send never reads it.</summary>
    public static string SuccessPath(ulong id) => QueueLayout.Bounce(id) + ".delivered";

    /// <summary>Appends a local success to bounce/&lt;id&gt;.delivered if its recipient asked for NOTIFY=SUCCESS.</summary>
    private void RecordSuccess(ulong id, byte[] recipient, byte[] report)
    {
        if (_controls.BounceFormat == BounceFormat.Qsbmf) return;
        if (Libc.StatPath(RemoteParameters.PathOf(id), out _) != 0) return; // most messages: nothing asked
        if (!ReadDsnRequest(id).For(BounceText.StripVirtualPrefix(recipient, _controls.VirtualDomains)).Wants(Notify.Success)) return;
        var path = SuccessPath(id);
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        // a success report is a courtesy: unlike a bounce, it is not worth stopping deliveries for
        if (fd < 0) { ActivityLog.Line($"warning: unable to append to {path}"); return; }
        using var fdOwner = new OwnedFd(fd);
        if (!Libc.WriteAll(fd, BounceText.Block(recipient, report, _controls.VirtualDomains)))
            ActivityLog.Line($"warning: unable to append to {path}");
    }

    /// <summary>What the message's sender asked for, from rparam/ (None: no file, or one not for this message).</summary>
    private DsnRequest ReadDsnRequest(ulong id)
    {
        var fd = Libc.Open(RemoteParameters.PathOf(id), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return DsnRequest.None;
        using var fdOwner = new OwnedFd(fd);
        try
        {
            var p = RemoteParameters.Decode(FdRead.All(fd));
            if (Libc.StatPath(QueueLayout.Mess(id), out var mess) != 0 || !p.Belongs(mess.Size, mess.MTimeSec)) return DsnRequest.None;
            return DsnRequest.From(p, a => BounceText.StripVirtualPrefix(a, _controls.VirtualDomains).ToArray());
        }
        catch (IOException) { return DsnRequest.None; }
        catch (RemoteParametersException) { return DsnRequest.None; }
    }

    /// <summary>Whether this message's bounce is a report: a single bounce, not under qsbmf, and asked for (or dsn for all).</summary>
    private DsnRequest? ReportRequest(ulong id, BounceRoute route)
    {
        if (route.Kind != BounceKind.Single || _controls.BounceFormat == BounceFormat.Qsbmf) return null;
        var dsn = ReadDsnRequest(id);
        return dsn.Asked || _controls.BounceFormat == BounceFormat.Dsn ? dsn : null;
    }

    /// <summary>
    /// Sends the success report, then the failure report, each if it names
    /// anyone; each file is removed once its report is queued. False: try
    /// again later (logged).
    /// </summary>
    private bool InjectReports(ulong id, byte[] recipient, long arrival, DsnRequest dsn)
    {
        foreach (var (path, success) in new[] { (SuccessPath(id), true), (QueueLayout.Bounce(id), false) })
        {
            var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                if (Libc.Errno == Errno.ENOENT) continue;
                ActivityLog.Line($"warning: unable to open {path}");
                return false;
            }
            byte[] content, mess;
            using (new OwnedFd(fd))
            {
                try { content = FdRead.All(fd); }
                catch (IOException) { ActivityLog.Line($"warning: trouble reading {path}"); return false; }
            }
            var reported = ReportPlan.Reported(ReportBlocks.Parse(content), dsn, success);
            if (reported.Count > 0)
            {
                if (ReadAll(QueueLayout.Mess(id)) is not { } m) { ActivityLog.Line($"warning: trouble reading {QueueLayout.Mess(id)}"); return false; }
                mess = m;
                var report = DeliveryReport.Build(new DeliveryReportInput(
                    Now(), $"{Encoding.UTF8.GetString(_controls.BounceFrom)}@{Encoding.UTF8.GetString(_controls.BounceHost)}",
                    Encoding.UTF8.GetString(recipient), Encoding.UTF8.GetString(_controls.BounceHost), dsn.EnvelopeId, arrival,
                    dsn.HeadersOnly, success, id, reported, mess));
                using var qq = QueueClient.Open(_home);
                if (qq.Pid < 0)
                {
                    ActivityLog.Line("warning: unable to start qmail-queue, will try later");
                    return false;
                }
                qq.Write(report);
                if (!qq.Close(new QueueEnvelope([], [recipient])).Success)
                {
                    ActivityLog.Line("warning: trouble injecting bounce message, will try later");
                    return false;
                }
                ActivityLog.Line($"{(success ? "success report" : "bounce")} msg {id} qp {qq.Pid}");
            }
            if (Libc.Unlink(path) != 0)
            {
                ActivityLog.Line($"warning: unable to unlink {path}");
                return false;
            }
        }
        return true;
    }

    private static byte[]? ReadAll(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var fdOwner = new OwnedFd(fd);
        try { return FdRead.All(fd); }
        catch (IOException) { return null; }
    }
}
