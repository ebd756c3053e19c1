using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

/// <summary>The checks while the envelope is given (CDB tables inline, a program as an effect) and the envelope's own rules.</summary>
public sealed partial class SmtpSession
{
    private Func<CheckResult, SessionStep>? _afterCheck;

    /// <summary>
    /// The CDB tables answer at once; when they accept and control/smtpcheck
    /// names a program, its run is the driver's and <paramref name="then"/>
    /// waits for <see cref="CheckProgramDone"/>.
    /// </summary>
    private SessionStep Check(CheckStage stage, byte[]? sender, byte[]? recipient, Func<CheckResult, SessionStep> then)
    {
        var checks = settings.Checks;
        var table = checks.Check(stage, _helo, sender, recipient);
        if (table.Verdict != CheckVerdict.Accept || !checks.HasProgram) return then(table);
        _afterCheck = then;
        PendingEffect = new CheckProgramEffect(checks.ProgramRequest(stage, _helo, sender, recipient, client.ChildEnvironment));
        return SessionStep.Effect;
    }

    /// <summary>The check program of a <see cref="CheckProgramEffect"/> ran.</summary>
    public SessionStep CheckProgramDone(ChildResult result)
    {
        if (PendingEffect is not CheckProgramEffect || _afterCheck is not { } then)
            throw new InvalidOperationException("no check program pending");
        PendingEffect = null;
        _afterCheck = null;
        return then(SmtpChecks.ProgramVerdict(result));
    }

    private SessionStep Refuse(CheckResult check, SmtpReplyId rejected)
    {
        var id = check.Verdict switch
        {
            CheckVerdict.Reject => rejected,
            CheckVerdict.Defer => SmtpReplyId.CheckDeferred,
            _ => SmtpReplyId.CheckUnavailable,
        };
        var r = SmtpReplies.Of(id);
        if (check.Text is { } text) SmtpReplies.Append(_out, r.Code, SmtpReplies.EnhancedFor(r.Code, r.Enhanced, Encoding.ASCII.GetBytes(r.Text)), text, Enhanced);
        else SmtpReplies.Append(_out, id, Enhanced);
        return SessionStep.Command;
    }

    /// <summary>The path of MAIL or RCPT as qmail reads it, with RFC 5321's keyword required when strict.</summary>
    private bool ReadPath(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> keyword, SmtpReplyId syntax,
        out byte[] address, out ReadOnlySpan<byte> rest, out SessionStep fault)
    {
        address = [];
        rest = default;
        fault = SessionStep.Command;
        if (Strict)
        {
            if (SmtpCommand.AfterKeyword(arg, keyword) is not { } start) { fault = Reply(syntax); return false; }
            arg = arg[start..];
        }
        var path = SmtpPath.Parse(arg);
        if (Strict && !path.Terminated) { fault = Reply(syntax); return false; }
        address = LocalIpHost(path.Address);
        if (address.Length > SmtpPath.MaxAddress) { fault = Reply(SmtpReplyId.AddressTooLong); return false; }
        rest = arg[path.ParametersStart..];
        return true;
    }

    private byte[] LocalIpHost(byte[] address)
    {
        if (settings.LocalIpHost is not { } liphost) return address;
        if (SmtpPath.TrailingIpLiteral(address, out var at) is not { } ip || !LocalIps.Contains(ip)) return address;
        return [.. address.AsSpan(0, at + 1), .. liphost];
    }

    private static SmtpReplyId? NonAscii(byte[] address, bool utf8)
    {
        if (System.Text.Ascii.IsValid(address)) return null;
        if (!utf8) return SmtpReplyId.NeedsSmtpUtf8;
        return System.Text.Unicode.Utf8.IsValid(address) ? null : SmtpReplyId.BadUtf8;
    }

    private SessionStep ParameterFault(EsmtpParameterFault f) => Reply(f switch
    {
        EsmtpParameterFault.Unknown => SmtpReplyId.ParameterUnknown,
        EsmtpParameterFault.Duplicate => SmtpReplyId.ParameterDuplicate,
        EsmtpParameterFault.BadValue => SmtpReplyId.ParameterValue,
        _ => SmtpReplyId.ParameterSyntax,
    });

    private bool BadMailFrom(byte[] address)
    {
        if (settings.BadMailFrom.Count == 0) return false;
        if (settings.BadMailFrom.Contains(address)) return true;
        var at = Array.LastIndexOf(address, (byte)'@');
        return at >= 0 && settings.BadMailFrom.Contains(address.AsSpan(at));
    }

    /// <summary>
    /// qmail's rcpthosts test (§8.6) — except that with no control/rcpthosts
    /// jsmail-smtpd relays for nobody (BCP 30) where qmail accepts every domain.
    /// </summary>
    private bool RecipientAllowed(byte[] address)
    {
        var at = Array.LastIndexOf(address, (byte)'@');
        if (at < 0) return true;
        if (settings.RcptHosts is not { } hosts) return false;
        var domain = AsciiCase.ToLower(address.AsSpan(at + 1));
        if (hosts.ContainsDomainOrSuffix(domain)) return true;
        if (settings.MoreRcptHosts is not { } cdb) return false;
        for (var i = 0; i < domain.Length; i++)
            if ((i == 0 || domain[i] == (byte)'.') && cdb.TryFind(domain.AsSpan(i), out _)) return true;
        return false;
    }
}
