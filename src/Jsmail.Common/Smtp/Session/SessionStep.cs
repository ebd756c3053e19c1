using Jsmail.Common.Envelope;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

public enum SessionStep
{
    /// <summary>Read the next command line.</summary>
    Command,
    /// <summary>
    /// Message data follows (after DATA's 354, or a BDAT chunk's bytes): feed
    /// what is buffered to <see cref="SmtpSession.Data(System.ReadOnlySpan{byte}, out int)"/>,
    /// which takes no more than belongs to the message or the chunk. Replies so far must be sent first.
    /// </summary>
    Data,
    /// <summary>Send what is pending, then end the connection with <see cref="SmtpSession.ExitCode"/>.</summary>
    Close,
    /// <summary>
    /// Send what is pending (the 220), drop every byte already read, do the TLS
    /// handshake and report it with <see cref="SmtpSession.TlsStarted"/>.
    /// </summary>
    StartTls,
    /// <summary>
    /// Do <see cref="SmtpSession.PendingEffect"/> and resume the session with its
    /// result (the method each effect names); feed nothing else before that.
    /// Replies so far may be sent or kept: their order is the session's.
    /// </summary>
    Effect,
}

/// <summary>Something slow the session needs done before it can go on: the driver does it, blocking or not.</summary>
public abstract record SessionEffect;

/// <summary>Run control/smtpcheck; resume with <see cref="SmtpSession.CheckProgramDone"/>.</summary>
public sealed record CheckProgramEffect(ChildRequest Request) : SessionEffect;

/// <summary>Run the checkpassword program; resume with <see cref="SmtpSession.AuthenticateDone"/>.</summary>
public sealed record AuthenticateEffect(ChildRequest Request) : SessionEffect;

/// <summary>
/// The final dot arrived: commit the message written into <paramref name="Sink"/>
/// (the object the driver's factory made, so the driver knows its type) with this
/// envelope; resume with <see cref="SmtpSession.CommitDone"/>. From here on the
/// sink is the driver's: the session never touches it again.
/// </summary>
public sealed record CommitMessageEffect(QueueEnvelope Envelope, IMessageSink Sink) : SessionEffect;
