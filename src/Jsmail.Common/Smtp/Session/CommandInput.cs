namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// How both drivers cut buffered input into command lines for a session:
/// a line ends at LF; one longer than <see cref="SmtpSession.MaxCommandLine"/>
/// is refused as a whole (its bytes dropped as they come, until its LF), so
/// that no part of it is ever read as a command.
/// </summary>
public static class CommandInput
{
    /// <summary>
    /// Gives the session the first whole line of <paramref name="pending"/>, if
    /// there is one, and returns its step; null when more input is needed.
    /// <paramref name="consumed"/> bytes of <paramref name="pending"/> are used up.
    /// </summary>
    /// <param name="discarding">inside an over-long line, until its LF (the driver keeps it between calls)</param>
    public static SessionStep? Next(SmtpSession session, ReadOnlySpan<byte> pending, ref bool discarding, out int consumed)
    {
        var lf = pending.IndexOf((byte)'\n');
        if (lf >= 0)
        {
            consumed = lf + 1;
            if (discarding)
            {
                discarding = false;
                return session.LineTooLong();
            }
            return lf + 1 > SmtpSession.MaxCommandLine ? session.LineTooLong() : session.Command(pending[..lf]);
        }
        // no LF yet: past the limit, what there is can only be the start of a line to refuse
        consumed = 0;
        if (pending.Length >= SmtpSession.MaxCommandLine)
        {
            discarding = true;
            consumed = pending.Length;
        }
        return null;
    }
}
