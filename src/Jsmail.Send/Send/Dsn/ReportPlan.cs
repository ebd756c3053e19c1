using System.Text;

namespace Jsmail.Send.Send.Dsn;

/// <summary>
/// Which recipients of a bounce file (or of the successes or deferrals kept
/// for a report) a report names, with their RFC 3464 fields: those whose
/// NOTIFY asks for that outcome (without NOTIFY: failures, and delays when
/// delay warnings are on; NOTIFY=NEVER: none). Pure.
/// </summary>
public static class ReportPlan
{
    public static List<ReportedRecipient> Reported(IEnumerable<ReportBlock> blocks, DsnRequest dsn, ReportKind kind)
    {
        var o = new List<ReportedRecipient>();
        foreach (var b in blocks)
        {
            var asked = dsn.For(b.Address);
            var wanted = kind switch
            {
                ReportKind.Success => asked.Wants(Notify.Success),
                ReportKind.Delay => asked.WantsDelay,
                _ => asked.Wants(Notify.Failure),
            };
            if (!wanted) continue;
            var (outcome, action) = kind switch
            {
                ReportKind.Success => ('K', DeliveryText.IsRelayed(b.Text) ? "relayed" : "delivered"),
                ReportKind.Delay => ('Z', "delayed"),
                _ => ('D', "failed"),
            };
            var facts = DeliveryText.Facts(b.Text, outcome);
            var text = Encoding.UTF8.GetString(b.Text); // as qmail's bounce shows it
            o.Add(new ReportedRecipient(Encoding.UTF8.GetString(b.Address), asked.OriginalRecipient,
                action, facts.Status, facts.RemoteMta, facts.Diagnostic, text));
        }
        return o;
    }
}
