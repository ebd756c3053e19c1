using Jsmail.Common.Smtp;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// SMTP command lines as a client sends them: the verb split, the line checks,
/// the MAIL/RCPT path and the ESMTP parameters.
/// </summary>
public static class SmtpCommandHarness
{
    public static void Run(byte[] data)
    {
        foreach (var line in Lines(data)) Line(line);
    }

    private static void Line(byte[] line)
    {
        var cmd = SmtpCommand.Parse(line);
        var body = line.AsSpan();
        if (body.Length > 0 && body[^1] == (byte)'\r') body = body[..^1];
        That(cmd.Verb.Length <= body.Length && body.StartsWith(cmd.Verb), "the verb is the start of the line");
        That(cmd.Verb.IndexOf((byte)' ') < 0, "the verb has no space");
        That(cmd.Argument.IsEmpty || cmd.Argument[0] != (byte)' ', "the argument starts after the spaces");
        That(body.EndsWith(cmd.Argument), "the argument is the end of the line");
        if (cmd.Verb.Length < body.Length)
        {
            var gap = body[cmd.Verb.Length..^cmd.Argument.Length];
            That(gap.Length >= 1 && gap.IndexOfAnyExcept((byte)' ') < 0, "only spaces between verb and argument");
        }
        That((cmd.Kind == SmtpVerb.Unknown) == (SmtpCommand.Classify(cmd.Verb) == SmtpVerb.Unknown), "classify is stable");

        var fault = SmtpCommand.Check(line, allowEightBit: false);
        That((fault == SmtpLineFault.Nul) == (body.IndexOf((byte)0) >= 0 && (body.IndexOf((byte)'\r') < 0 || body.IndexOf((byte)0) < body.IndexOf((byte)'\r'))),
            "NUL is reported when it comes first");
        var lenient = SmtpCommand.Check(line, allowEightBit: true);
        That(lenient != SmtpLineFault.EightBit, "8-bit allowed is never an 8-bit fault");
        That(fault == lenient || fault == SmtpLineFault.EightBit, "8-bit refusal only adds the 8-bit fault");

        foreach (var keyword in new[] { "FROM:"u8.ToArray(), "TO:"u8.ToArray() })
        {
            if (SmtpCommand.AfterKeyword(cmd.Argument, keyword) is not { } at) continue;
            That(at >= keyword.Length && at <= cmd.Argument.Length, "AfterKeyword stays within the argument");
            Path(cmd.Argument[at..].ToArray(), cmd.Argument.ToArray());
        }
        Path(cmd.Argument.ToArray(), cmd.Argument.ToArray());
        Auth(cmd.Argument);
    }

    /// <summary>AUTH's responses: strict base64 round-trips, PLAIN splits within the message.</summary>
    private static void Auth(ReadOnlySpan<byte> argument)
    {
        var word = argument.IndexOf((byte)' ') is var sp and >= 0 ? argument[(sp + 1)..] : argument;
        var fault = SmtpAuthCodec.DecodeResponse(word, initial: true, out var decoded);
        if (fault != SmtpAuthFault.None || word.SequenceEqual("="u8)) return;
        Same(SmtpAuthCodec.EncodeBase64(decoded), word, "accepted base64 is canonical: it re-encodes to itself");
        if (SmtpAuthCodec.SplitPlain(decoded, out var user, out var password) != SmtpAuthFault.None) return;
        That(user.Length + password.Length + 2 <= decoded.Length, "PLAIN's parts come from the message");
        if (SmtpAuthCodec.Acceptable(user, password, "<1.2@x>"u8))
            That(SmtpAuthCodec.CheckpasswordInput(user, password, "<1.2@x>"u8).Length <= SmtpAuthCodec.MaxCheckpasswordInput,
                "acceptable credentials fit checkpassword's input");
    }

    private static void Path(byte[] afterKeyword, byte[] argument)
    {
        var path = SmtpPath.Parse(argument);
        That(path.ParametersStart >= 0 && path.ParametersStart <= argument.Length, "parameters start within the argument");
        That(path.Address.Length <= argument.Length, "the address is no longer than the argument");
        SmtpPath.TrailingIpLiteral(path.Address, out var at);
        That(at < path.Address.Length, "the literal's @ is inside the address");
        That(SmtpPath.Domain(path.Address).Length <= path.Address.Length, "the domain is part of the address");

        var rest = argument.AsSpan(path.ParametersStart);
        var authFault = SmtpAuthCodec.TakeMailAuth(rest, out var withoutAuth, out var authValue);
        That(withoutAuth.Length <= rest.Length, "taking AUTH= only removes bytes");
        if (authFault == EsmtpParameterFault.None && authValue != null)
            That(authValue.AsSpan().SequenceEqual("<>"u8) || EsmtpParameters.IsXtext(authValue), "an AUTH= value is <> or xtext");
        var all = (EsmtpFeatures)~0;
        var mailFault = EsmtpParameters.ParseMail(rest, all, out var mail);
        That((mailFault == EsmtpParameterFault.None) == (mail != null), "MAIL parameters come with no fault only");
        if (mail != null)
        {
            foreach (var p in mail.List)
                That(Jsmail.Common.Envelope.EnvelopeExtensionCodec.Check(p.Keyword, p.Value ?? [], p.Value != null) == null,
                    "accepted MAIL parameters may be stored in the envelope extension");
        }
        if (EsmtpParameters.ParseRcpt(rest, all, utf8: true, out var rcpt) == EsmtpParameterFault.None)
            foreach (var p in rcpt)
                That(Jsmail.Common.Envelope.EnvelopeExtensionCodec.Check(p.Keyword, p.Value ?? [], p.Value != null) == null,
                    "accepted RCPT parameters may be stored in the envelope extension");
        _ = afterKeyword;
    }
}
