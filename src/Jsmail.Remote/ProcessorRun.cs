using Jsmail.Common.Os;

namespace Jsmail.Remote;

internal enum ProcessorFailure { None, CannotStart, Exited, Signalled, TimedOut, NoOutput, Resources }

/// <summary>How one processor ended: its exit code or signal, and the start of what it wrote on fd 2.</summary>
internal readonly record struct ProcessorOutcome(ProcessorFailure Kind, int Code = 0, byte[]? Said = null);

/// <summary>
/// Runs one send-time processor as <c>/bin/sh -c command</c> (as qmail runs a
/// .qmail program line) in its own process group: fd 0 the message, fd 1 a
/// new memfd, fd 2 another memfd whose first line explains a failure. When it
/// ends, or when the timeout passes, its whole process group is killed, so
/// nothing it left behind writes on into the result.
/// </summary>
internal static class ProcessorRun
{
    private const uint MFD_CLOEXEC = 1;
    private const int WNOHANG = 1;
    private const int SaidLimit = 512;

    /// <param name="input">the message, read from where the fd stands (fd 0) or from its start (a memfd)</param>
    /// <param name="output">the memfd holding the result, or -1</param>
    public static ProcessorOutcome Run(byte[] command, int input, TimeSpan timeout, out int output)
    {
        output = -1;
        if (input != 0 && Libc.Lseek(input, 0, 0) != 0) return new(ProcessorFailure.Resources);
        var result = Memfd("jsmail-remote-processed");
        if (result < 0) return new(ProcessorFailure.Resources);
        var errors = Memfd("jsmail-remote-processor-errors");
        if (errors < 0) { Libc.Close(result); return new(ProcessorFailure.Resources); }
        try
        {
            int pid;
            try
            {
                pid = PosixSpawn.Start("/bin/sh", ["/bin/sh"u8.ToArray(), "-c"u8.ToArray(), command], null,
                    [(0, input), (1, result), (2, errors)], newProcessGroup: true);
            }
            catch (SpawnException e)
            {
                Libc.Close(result);
                return new(ProcessorFailure.CannotStart, e.Errno);
            }

            var finished = WaitForExit(pid, timeout, out var reaped);
            Libc.Kill(-pid, Libc.SIGKILL);
            var status = reaped ?? Reap(pid);
            var outcome = !finished ? new ProcessorOutcome(ProcessorFailure.TimedOut, 0, Said(errors))
                : !Libc.Exited(status) ? new ProcessorOutcome(ProcessorFailure.Signalled, Libc.TermSignal(status), Said(errors))
                : Libc.ExitCode(status) != 0 ? new ProcessorOutcome(ProcessorFailure.Exited, Libc.ExitCode(status), Said(errors))
                : Libc.Fstat(result, out var st) != 0 ? new ProcessorOutcome(ProcessorFailure.Resources)
                : st.Size == 0 ? new ProcessorOutcome(ProcessorFailure.NoOutput, 0, Said(errors))
                : new ProcessorOutcome(ProcessorFailure.None);
            if (outcome.Kind == ProcessorFailure.None) output = result;
            else Libc.Close(result);
            return outcome;
        }
        finally
        {
            Libc.Close(errors);
        }
    }

    private static int Reap(int pid)
    {
        Libc.Waitpid(pid, out var status);
        return status;
    }

    private static int Memfd(string name)
    {
        var fd = Libc.MemfdCreate(name, MFD_CLOEXEC);
        return fd < 0 ? -1 : Libc.MoveHigh(fd);
    }

    /// <summary>
    /// True once the child has exited; false when the timeout passed first.
    /// With a pidfd the child is left unreaped, so its pid, and the process
    /// group named by it, stay reserved for the kill that follows; without one
    /// (kernels before 5.3) it is reaped here and its status returned.
    /// </summary>
    private static bool WaitForExit(int pid, TimeSpan timeout, out int? reaped)
    {
        reaped = null;
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var pidfd = Libc.PidfdOpen(pid);
        if (pidfd >= 0)
        {
            try
            {
                Span<Libc.PollFd> poll = [new Libc.PollFd { Fd = pidfd, Events = Libc.POLLIN }];
                while (true)
                {
                    var left = deadline - Environment.TickCount64;
                    if (left <= 0) return false;
                    if (Libc.Poll(poll, (int)Math.Min(left, int.MaxValue)) > 0) return true;
                }
            }
            finally { Libc.Close(pidfd); }
        }
        while (Environment.TickCount64 < deadline)
        {
            if (Libc.Waitpid(pid, out var status, WNOHANG) == pid) { reaped = status; return true; }
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>The start of what the processor wrote on fd 2.</summary>
    private static byte[] Said(int errors)
    {
        var buf = new byte[SaidLimit];
        if (Libc.Lseek(errors, 0, 0) != 0) return [];
        var n = Libc.Read(errors, buf);
        return n > 0 ? buf[..n] : [];
    }
}
