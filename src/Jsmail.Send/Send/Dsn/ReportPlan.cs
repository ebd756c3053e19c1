using System.Text;

namespace Jsmail.Send.Send.Dsn;

/// <summary>
/// Which recipients of a bounce file (or of the successes kept beside it) a
/// report names, with their RFC 3464 fields: those whose NOTIFY asks for
/// that outcome (without NOTIFY: failures only; NOTIFY=NEVER: none). Pure.
/// </summary>
public static class ReportPlan
{
    public static List<ReportedRecipient> Reported(IEnumerable<ReportBlock> blocks, DsnRequest dsn, bool success)
    {
        var o = new List<ReportedRecipient>();
        foreach (var b in blocks)
        {
            var asked = dsn.For(b.Address);
            if (!asked.Wants(success ? Notify.Success : Notify.Failure)) continue;
            var facts = DeliveryText.Facts(b.Text, failed: !success);
            var text = Encoding.UTF8.GetString(b.Text); // as qmail's bounce shows it
            o.Add(new ReportedRecipient(Encoding.UTF8.GetString(b.Address), asked.OriginalRecipient,
                success ? "delivered" : "failed", facts.Status, facts.RemoteMta, facts.Diagnostic, text));
        }
        return o;
    }
}
