using Jsmail.Common.Os;

namespace Jsmail.Local;

/// <summary>
/// A "|command" line (interfaces §5.8): /bin/sh -c command in the home
/// directory, the message on fd 0 from its start, fds 1 and 2 shared with
/// qmail-local's report, the delivery environment.
/// </summary>
public static class ProgramDelivery
{
    public enum Outcome { Continue, Stop }

    /// <param name="timeoutSeconds">0: wait as long as it takes (qmail)</param>
    public static Outcome Run(byte[] command, MessageInput message, List<byte[]> environment, int timeoutSeconds)
    {
        message.Rewind();
        int pid;
        try
        {
            pid = PosixSpawn.Start("/bin/sh", ["sh"u8.ToArray(), "-c"u8.ToArray(), command], environment,
                [(0, 0), (1, 1), (2, 2)], newProcessGroup: true);
        }
        catch (SpawnException e)
        {
            throw LocalFailure.Temporary($"Unable to run /bin/sh: {ErrorText.Describe(e.Errno)}. (#4.3.0)");
        }

        if (timeoutSeconds > 0 && !ExitsWithin(pid, timeoutSeconds))
        {
            Libc.Kill(-pid, Libc.SIGKILL);
            Libc.Waitpid(pid, out _);
            throw LocalFailure.Temporary("Timeout on program delivery. (#4.3.0)");
        }
        if (Libc.Waitpid(pid, out var status) != pid)
            throw LocalFailure.Temporary("Aack, child crashed. (#4.3.0)");
        if (!Libc.Exited(status)) throw LocalFailure.Temporary("Aack, child crashed. (#4.3.0)");
        return Libc.ExitCode(status) switch
        {
            0 => Outcome.Continue,
            99 => Outcome.Stop,
            100 or 64 or 65 or 70 or 76 or 77 or 78 or 112 => throw new LocalFailure(100, ""),
            _ => throw new LocalFailure(111, ""),
        };
    }

    private static bool ExitsWithin(int pid, int seconds)
    {
        var pidFd = Libc.PidfdOpen(pid);
        if (pidFd < 0) return true; // no pidfd: wait without a limit, as qmail does
        try
        {
            Span<Libc.PollFd> fds = [new Libc.PollFd { Fd = pidFd, Events = Libc.POLLIN }];
            var deadline = Environment.TickCount64 + seconds * 1000L;
            while (true)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0) return false;
                if (Libc.Poll(fds, (int)Math.Min(left, int.MaxValue)) > 0) return true;
            }
        }
        finally { Libc.Close(pidFd); }
    }
}
