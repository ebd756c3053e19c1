using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.Send.Send.Dsn;
using Jsmail.Send.Send.Scheduling;

namespace Jsmail.Send.Send;

/// <summary>
/// Delivery status notifications (RFC 3461/3464, docs/jsmail-send.md): the
/// successes kept for them, the reports sent in place of qmail's bounce, and
/// the one delay warning of a message.
/// </summary>
public sealed partial class QueueManager
{
    /// <summary>Successes a sender asked to hear of, in bounce-file blocks: jsmail's alone, a qmail-send never reads it.</summary>
    public static string SuccessPath(ulong id) => QueueLayout.Bounce(id) + ".delivered";

    /// <summary>The mark of a message's delay warning, sent: jsmail's alone; one older than the message is another's (a reused inode).</summary>
    public static string DelayMarkPath(ulong id) => QueueLayout.Bounce(id) + ".delayed";

    /// <summary>
    /// Appends a success to bounce/&lt;id&gt;.delivered if its recipient asked
    /// for NOTIFY=SUCCESS: a local delivery, or a remote one that jsmail-remote
    /// says went to a peer without DSN (relayed; otherwise the peer reports it).
    /// </summary>
    private void RecordSuccess(ulong id, Channel channel, byte[] recipient, byte[] report)
    {
        if (_controls.BounceFormat == BounceFormat.Qsbmf) return;
        if (channel == Channel.Remote && !DeliveryText.IsRelayed(report)) return;
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
    private DsnRequest ReadDsnRequest(ulong id) =>
        ReadParameters(id) is { } p ? DsnRequest.From(p, a => BounceText.StripVirtualPrefix(a, _controls.VirtualDomains).ToArray()) : DsnRequest.None;

    /// <summary>
    /// The message's MT-PRIORITY (RFC 6710: the shipped plugin's MAIL parameter,
    /// docs/plugins.md), -9..9, for the scheduler's order; 0 without one, and
    /// under qmail compatibility. One failed open for the many messages without rparam/.
    /// </summary>
    private int ReadPriority(ulong id)
    {
        if (Jsmail.Common.Control.Compat.IsQmail) return 0;
        return ReadParameters(id) is { } p && EnvelopeExtension.Find(p.Extension.Sender, "MT-PRIORITY")?.ValueText is { } v &&
               int.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) &&
               n is >= -9 and <= 9 ? n : 0;
    }

    /// <summary>The message's rparam/ file; null when there is none or it is not this message's.</summary>
    private static RemoteParameters? ReadParameters(ulong id)
    {
        var fd = Libc.Open(RemoteParameters.PathOf(id), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var fdOwner = new OwnedFd(fd);
        try
        {
            var p = RemoteParameters.Decode(FdRead.All(fd));
            return Libc.StatPath(QueueLayout.Mess(id), out var mess) == 0 && p.Belongs(mess.Size, mess.MTimeSec) ? p : null;
        }
        catch (IOException) { return null; }
        catch (RemoteParametersException) { return null; }
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
        foreach (var (path, kind) in new[] { (SuccessPath(id), ReportKind.Success), (QueueLayout.Bounce(id), ReportKind.Failure) })
        {
            var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                if (Libc.Errno == Errno.ENOENT) continue;
                ActivityLog.Line($"warning: unable to open {path}");
                return false;
            }
            byte[] content;
            using (new OwnedFd(fd))
            {
                try { content = FdRead.All(fd); }
                catch (IOException) { ActivityLog.Line($"warning: trouble reading {path}"); return false; }
            }
            var reported = ReportPlan.Reported(ReportBlocks.Parse(content), dsn, kind);
            if (reported.Count > 0 && !QueueReport(id, recipient, arrival, dsn, kind, reported)) return false;
            if (Libc.Unlink(path) != 0)
            {
                ActivityLog.Line($"warning: unable to unlink {path}");
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Recipients deferred: the message's one delay warning, when
    /// control/delaywarningtime has passed since its arrival, its sender gets
    /// RFC 3464 reports and some of them asked (NOTIFY=DELAY, or no NOTIFY).
    /// The mark is made once the warning is queued, so a restart does not send
    /// it again; a warning that cannot be queued is tried at the next deferral.
    /// </summary>
    private void WarnDelay(ulong id, DeferredRecipient[] deferred)
    {
        if (_controls.DelayWarningTime == 0 || _controls.BounceFormat == BounceFormat.Qsbmf) return;
        if (Info(id) is not var (sender, arrival) || Now() - arrival < _controls.DelayWarningTime) return;
        var mark = DelayMarkPath(id);
        if (Libc.StatPath(mark, out var st) == 0 && st.MTimeSec >= arrival) return;
        var route = BounceRoute.For(Verp.StripMarker(sender), _controls.DoubleBounceTo);
        if (ReportRequest(id, route) is not { } dsn) return; // no warnings to <> and #@[], nor to a sender who gets qmail's bounces
        var blocks = deferred.Select(d => new ReportBlock(
            BounceText.StripVirtualPrefix(d.Address, _controls.VirtualDomains).ToArray(), d.Report));
        var reported = ReportPlan.Reported(blocks, dsn, ReportKind.Delay);
        if (reported.Count == 0 || !QueueReport(id, route.Recipient, arrival, dsn, ReportKind.Delay, reported)) return;
        Libc.Unlink(mark); // a stale one: the new mark's time must be this message's
        var fd = Libc.Open(mark, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        if (fd < 0) { ActivityLog.Line($"warning: unable to create {mark}"); return; }
        Libc.Close(fd);
    }

    /// <summary>Builds a report and queues it from &lt;&gt; to <paramref name="recipient"/>; false: try again later (logged).</summary>
    private bool QueueReport(ulong id, byte[] recipient, long arrival, DsnRequest dsn, ReportKind kind, List<ReportedRecipient> reported)
    {
        if (ReadAll(QueueLayout.Mess(id)) is not { } mess) { ActivityLog.Line($"warning: trouble reading {QueueLayout.Mess(id)}"); return false; }
        var report = DeliveryReport.Build(new DeliveryReportInput(
            Now(), $"{Encoding.UTF8.GetString(_controls.BounceFrom)}@{Encoding.UTF8.GetString(_controls.BounceHost)}",
            Encoding.UTF8.GetString(recipient), Encoding.UTF8.GetString(_controls.BounceHost), dsn.EnvelopeId, arrival,
            dsn.HeadersOnly, kind, id, reported, mess, arrival + _controls.Lifetime, _controls.BounceMaxBytes, dsn.RequireTls));
        using var qq = QueueClient.Open(_home);
        if (qq.Pid < 0)
        {
            ActivityLog.Line("warning: unable to start qmail-queue, will try later");
            return false;
        }
        qq.Write(report);
        if (!qq.Close(new QueueEnvelope([], [recipient], dsn.RequireTls ? RequireTlsExtension() : null)).Success)
        {
            ActivityLog.Line("warning: trouble injecting bounce message, will try later");
            return false;
        }
        var what = kind switch { ReportKind.Success => "success report", ReportKind.Delay => "delay warning", _ => "bounce" };
        ActivityLog.Line($"{what} msg {id} qp {qq.Pid}");
        return true;
    }

    /// <summary>
    /// Whether the message came with REQUIRETLS (RFC 8689 §5: its bounce then
    /// returns its header section only and goes with REQUIRETLS too). Never
    /// under JSMAIL_COMPAT=qmail, where bounces are qmail's.
    /// </summary>
    private static bool RequiredTls(ulong id) =>
        !Jsmail.Common.Control.Compat.IsQmail && ReadParameters(id) is { } p && EnvelopeExtension.Find(p.Extension.Sender, "REQUIRETLS") != null;

    /// <summary>
    /// The envelope extension of a report about a REQUIRETLS message: REQUIRETLS
    /// on its MAIL (RFC 8689 §5), kept by the queue like jsmail-smtpd's, which
    /// jsmail-remote passes on wherever the peer offers it inside TLS.
    /// </summary>
    private static EnvelopeExtension RequireTlsExtension()
    {
        var extension = new EnvelopeExtension();
        extension.Sender.Add(new EsmtpParameter("REQUIRETLS", null));
        return extension;
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
