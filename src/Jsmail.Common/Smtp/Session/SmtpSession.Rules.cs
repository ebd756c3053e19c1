using System.Text;
using Jsmail.Common.Smtp.Plugins;
using Jsmail.Common.Tcp;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// The tcprules CDB looked up again for a client a plugin's verb (XCLIENT)
/// set: what the rules decided was for the address that connected (the
/// proxy); the client it speaks for gets what the rules give it, as if it had
/// connected itself (docs/plugins.md).
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>
    /// The rules to look up again, the current ones at each call (server mode
    /// rereads them on SIGHUP); null, or a null result: not looked up, and the
    /// new address only loses RELAYCLIENT and TCPREMOTEINFO.
    /// </summary>
    public Func<TcpRules?>? Rules { get; init; }

    /// <summary>DATABYTES as the rules set it for a client set by a plugin; null: as at connect.</summary>
    private ulong? _dataBytes;

    private ulong DataBytes => _dataBytes ?? settings.DataBytes;

    /// <summary>
    /// The proxy's rule's variables replaced by the new client's rule's, and
    /// what the session reads of them (RELAYCLIENT, SUBMISSION, DATABYTES).
    /// </summary>
    /// <param name="was">the client before the change, as the rules saw it</param>
    /// <param name="wasHost">TCPREMOTEHOST before the change (null: unset)</param>
    /// <returns>the client as the rules make it, or null when they deny it</returns>
    /// <exception cref="TcpRulesException">the rules cannot be read</exception>
    private SmtpClientInfo? RulesAgain(SmtpClientInfo was, byte[]? wasHost, SmtpClientInfo now, SppEnvironment env)
    {
        if (Rules?.Invoke() is not { } rules) return now;
        var before = rules.Decide(was.RemoteIp, wasHost, was.RemoteInfo);
        foreach (var a in before.Assignments) env.Unset(a.Name);
        // An unknown address matches no rule of its own: it gets the proxy's variables from none (tcpserver always knows one).
        if (!KnownAddressOf(now))
        {
            _log($"rules not looked up for an unknown address: {before.Assignments.Count} variable(s) of the previous client's rule dropped");
            return Reread(now, env);
        }
        var host = now.RemoteHost.AsSpan().SequenceEqual("unknown"u8) ? null : now.RemoteHost;
        var after = rules.Decide(now.RemoteIp, host, null);
        var rule = after.Rule == null ? "no rule" : $"rule \"{Printable(after.Rule)}\"";
        if (!after.Allowed)
        {
            _log($"rules: {rule} denies the client");
            return null;
        }
        foreach (var a in after.Assignments) env.Put(a.Entry);
        _log($"rules looked up again: {rule}, {after.Assignments.Count} variable(s)");
        return Reread(now, env);
    }

    /// <summary>What the session reads of the rules' variables, read again.</summary>
    private SmtpClientInfo Reread(SmtpClientInfo c, SppEnvironment env)
    {
        _dataBytes = env.Get("DATABYTES") is { } d ? SmtpdSettings.ScanDataBytes(d) : settings.ControlDataBytes;
        return c with
        {
            RelayClient = env.Get("RELAYCLIENT"),
            Submission = env.Get(SmtpClientInfo.SubmissionVariable) is { } s && !s.AsSpan().SequenceEqual("0"u8),
        };
    }

    private static bool KnownAddressOf(SmtpClientInfo c) => !c.RemoteIp.AsSpan().SequenceEqual("unknown"u8);

    /// <summary>The rules deny the client a plugin set: the connection ends, as tcpserver would have ended it, with a word.</summary>
    private SessionStep DeniedByRules()
    {
        SmtpReplies.Append(_out, 554, "5.7.1", Encoding.ASCII.GetBytes("the rules refuse this client"), Enhanced);
        return CloseWith(0);
    }
}
