using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>
/// A "|command" line (interfaces §5.8): /bin/sh -c command in the home
/// directory, the message on fd 0 from its start, fds 1 and 2 shared with
/// qmail-local's report, the delivery environment.
/// </summary>
public static class ProgramDelivery
{
    public enum Outcome { Continue, Stop }

    /// <param name="timeoutSeconds">0: wait as long as it takes (qmail)</param>
    public static Outcome Run(byte[] command, MessageFile message, ReportFds output, List<byte[]> environment,
        int timeoutSeconds)
    {
        message.Rewind();
        var result = ChildRunner.Run(new ChildRequest("/bin/sh", ["sh"u8.ToArray(), "-c"u8.ToArray(), command])
        {
            Environment = environment,
            Fds = [ChildFd.Pass(0, message.Fd), ChildFd.Pass(1, output.Out), ChildFd.Pass(2, output.Err)],
            TimeLimit = timeoutSeconds > 0 ? TimeSpan.FromSeconds(timeoutSeconds) : null,
        });
        return result.End switch
        {
            ChildEnd.CouldNotStart or ChildEnd.SetupFailed =>
                throw LocalFailure.Temporary($"Unable to run /bin/sh: {ErrorText.Describe(result.Code)}. (#4.3.0)"),
            ChildEnd.TimedOut => throw LocalFailure.Temporary("Timeout on program delivery. (#4.3.0)"),
            ChildEnd.Signalled => throw LocalFailure.Temporary("Aack, child crashed. (#4.3.0)"),
            _ => result.Code switch
            {
                0 => Outcome.Continue,
                99 => Outcome.Stop,
                100 or 64 or 65 or 70 or 76 or 77 or 78 or 112 => throw new LocalFailure(100, ""),
                _ => throw new LocalFailure(111, ""),
            },
        };
    }
}
