using System.Runtime.InteropServices;
using Jsmail.Common.Os;

namespace Jsmail.Queue;

/// <summary>
/// qmail-queue's signal handlers end the process with a fixed exit code (52 on
/// SIGALRM, 81 on a crash signal) and do nothing else. .NET's
/// PosixSignalRegistration would do it through a signal-handling thread, a
/// pipe and managed code: a tenth of jsmail-queue's start-up, paid on every
/// message. A managed method cannot be a signal handler itself (the signal may
/// arrive while the runtime is in the middle of anything), so the handler is
/// three machine instructions, exit_group(code), on a page of their own: written
/// while the page is read-write, then made read-only and executable before any
/// signal points at it.
/// </summary>
internal static unsafe partial class ExitOnSignal
{
    private const int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private const int PageSize = 4096, StubSize = 16;

    /// <summary>
    /// Installs, for each (signal, exit code), a handler that exits with that
    /// code. This replaces a handler the runtime has installed, such as its
    /// SIGFPE handler: a managed division by zero then ends the program with the
    /// same code its exception would have reached. False when the stubs cannot
    /// be made here (another architecture, or a policy that forbids executable
    /// memory): the caller falls back to PosixSignalRegistration.
    /// </summary>
    public static bool TryInstall(ReadOnlySpan<(int Signal, int ExitCode)> handlers)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || handlers.Length > PageSize / StubSize)
            return false;
        var page = Mmap(0, PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == -1) return false;
        var code = new Span<byte>((void*)page, PageSize);
        for (var i = 0; i < handlers.Length; i++) WriteExitStub(code.Slice(i * StubSize, StubSize), handlers[i].ExitCode);
        if (Mprotect(page, PageSize, PROT_READ | PROT_EXEC) != 0)
        {
            Munmap(page, PageSize);
            return false;
        }
        for (var i = 0; i < handlers.Length; i++) Libc.Signal(handlers[i].Signal, page + i * StubSize);
        return true;
    }

    /// <summary>x86-64: mov edi, code; mov eax, 231 (exit_group); syscall.</summary>
    internal static void WriteExitStub(Span<byte> stub, int exitCode)
    {
        stub.Fill(0xCC); // int3 after the syscall, which never returns
        stub[0] = 0xBF;
        BitConverter.TryWriteBytes(stub[1..5], exitCode);
        stub[5] = 0xB8;
        BitConverter.TryWriteBytes(stub[6..10], 231);
        stub[10] = 0x0F;
        stub[11] = 0x05;
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint addr, nuint length);
}
