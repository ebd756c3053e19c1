using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

public enum ProcessorFailure { None, CannotStart, Exited, Signalled, TimedOut, NoOutput, Resources }

/// <summary>How one processor ended: its exit code or signal, and the start of what it wrote on fd 2.</summary>
public readonly record struct ProcessorOutcome(ProcessorFailure Kind, int Code = 0, byte[]? Said = null);

/// <summary>
/// Runs one send-time processor as <c>/bin/sh -c command</c> (as qmail runs a
/// .qmail program line) in its own process group: fd 0 the message, fd 1 a
/// new memfd, fd 2 another memfd whose first line explains a failure. When it
/// ends, or when the timeout passes, its whole process group is killed, so
/// nothing it left behind writes on into the result.
/// </summary>
public static class ProcessorRun
{
    private const int SaidLimit = 512;

    /// <param name="input">the message, read from where the fd stands (fd 0) or from its start (a memfd)</param>
    /// <param name="output">the memfd holding the result, or -1</param>
    public static ProcessorOutcome Run(byte[] command, int input, TimeSpan timeout, out int output)
    {
        output = -1;
        if (input != 0 && Libc.Lseek(input, 0, 0) != 0) return new(ProcessorFailure.Resources);
        using var result = new OwnedFd(Memfd("jsmail-remote-processed"));
        if (!result.IsOpen) return new(ProcessorFailure.Resources);
        using var errors = new OwnedFd(Memfd("jsmail-remote-processor-errors"));
        if (!errors.IsOpen) return new(ProcessorFailure.Resources);
        var run = ChildRunner.Run(new ChildRequest("/bin/sh", ["/bin/sh"u8.ToArray(), "-c"u8.ToArray(), command])
        {
            Fds = [ChildFd.Pass(0, input), ChildFd.Pass(1, result.Fd), ChildFd.Pass(2, errors.Fd)],
            TimeLimit = timeout,
            KillGroupAtExit = true,
        });
        var outcome = run.End switch
        {
            ChildEnd.CouldNotStart => new ProcessorOutcome(ProcessorFailure.CannotStart, run.Code),
            ChildEnd.SetupFailed => new ProcessorOutcome(ProcessorFailure.Resources),
            ChildEnd.TimedOut => new ProcessorOutcome(ProcessorFailure.TimedOut, 0, Said(errors.Fd)),
            ChildEnd.Signalled => new ProcessorOutcome(ProcessorFailure.Signalled, run.Code, Said(errors.Fd)),
            _ when run.Code != 0 => new ProcessorOutcome(ProcessorFailure.Exited, run.Code, Said(errors.Fd)),
            _ => Produced(result.Fd, errors.Fd),
        };
        if (outcome.Kind == ProcessorFailure.None) output = result.Release(); // the caller owns the result now
        return outcome;
    }

    /// <summary>A processor that exited 0 must have written something.</summary>
    private static ProcessorOutcome Produced(int result, int errors) =>
        Libc.Fstat(result, out var st) != 0 ? new ProcessorOutcome(ProcessorFailure.Resources)
        : st.Size == 0 ? new ProcessorOutcome(ProcessorFailure.NoOutput, 0, Said(errors))
        : new ProcessorOutcome(ProcessorFailure.None);

    private static int Memfd(string name)
    {
        var fd = Libc.MemfdCreate(name, Libc.MFD_CLOEXEC);
        return fd < 0 ? -1 : Libc.MoveHigh(fd);
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
