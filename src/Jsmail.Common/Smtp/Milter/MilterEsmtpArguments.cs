using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// The ESMTP arguments of SMFIR_CHGFROM and SMFIR_ADDRCPT_PAR, kept where the
/// envelope extension (docs/envelope.md) carries them for delivery: DSN's RET
/// and ENVID for the sender, NOTIFY and ORCPT for a recipient, each
/// well-formed as jsmail-smtpd takes them from a client. Anything else (SIZE,
/// BODY, SMTPUTF8 describe the message the client sent, and stay the
/// client's) is dropped and noted for the log, never queued unchecked.
/// </summary>
public static class MilterEsmtpArguments
{
    public static List<EsmtpParameter> ForSender(byte[] arguments, List<string> dropped) => Take(arguments, mail: true, dropped);

    public static List<EsmtpParameter> ForRecipient(byte[] arguments, List<string> dropped) => Take(arguments, mail: false, dropped);

    private static List<EsmtpParameter> Take(byte[] arguments, bool mail, List<string> dropped)
    {
        var kept = new List<EsmtpParameter>();
        var command = mail ? "change-from" : "add-rcpt";
        if (EsmtpParameters.Split(arguments, out var list) != EsmtpParameterFault.None)
        {
            dropped.Add($"{command} ESMTP arguments not understood: dropped");
            return kept;
        }
        foreach (var p in list)
        {
            var keyword = p.Keyword.ToUpperInvariant();
            byte[] one = p.Value == null ? Encoding.ASCII.GetBytes(keyword) : [.. Encoding.ASCII.GetBytes(keyword + "="), .. p.Value];
            var ok = mail
                ? keyword is "RET" or "ENVID" && EsmtpParameters.ParseMail(one, EsmtpFeatures.Dsn, out _) == EsmtpParameterFault.None
                : EsmtpParameters.ParseRcpt(one, EsmtpFeatures.Dsn, utf8: false, out _) == EsmtpParameterFault.None;
            if (ok) kept.Add(p with { Keyword = keyword });
            else dropped.Add($"{command} ESMTP argument {keyword} not kept (the envelope carries only {(mail ? "RET and ENVID" : "NOTIFY and ORCPT")}, well-formed)");
        }
        return kept;
    }
}
