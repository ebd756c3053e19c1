using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// What the session core knows of TLS: whether STARTTLS can be answered with
/// 220 now. It does no handshake and no I/O on the connection.
/// </summary>
public interface IStartTlsCheck
{
    /// <summary>Checked before the 220: false (and why) gives 454 instead.</summary>
    bool Prepare(out string? problem);
}

/// <summary>
/// How a blocking driver gets to TLS after the 220. jsmail-smtpd itself carries
/// no TLS code (SslStream and its types would make every plain session's
/// start-up slower): it hands the connection to jsmail-smtpd-tls by exec. That
/// program does the handshake in-process and goes on with the session.
/// </summary>
public interface ITlsUpgrade : IStartTlsCheck
{
    /// <summary>
    /// The handshake over the plain fds, with everything read so far dropped.
    /// Returns the TLS transport and its description for the Received line, or
    /// null when the handshake failed (or, for a handover, when exec failed).
    /// </summary>
    IByteTransport? Handshake(FdTransport plain, int authFailures, out string description);
}

public static class TlsHandoverProtocol
{
    /// <summary>
    /// Set by jsmail-smtpd for jsmail-smtpd-tls: STARTTLS was answered with 220,
    /// so do the handshake before anything else; the value is the number of
    /// failed AUTH attempts so far, which a handover must not reset.
    /// </summary>
    public const string Variable = "JSMAIL_SMTPD_STARTTLS";

    public const string Program = "jsmail-smtpd-tls";
}
