using Jsmail.Common.Os;
using Jsmail.Common.Smtp;

namespace Jsmail.Smtpd;

public enum AuthVerdict { Accepted, Rejected, Unavailable }

/// <summary>
/// Verifies AUTH credentials with a checkpassword-compatible program, as the
/// qmail AUTH patches do (interfaces §12): <c>jsmail-smtpd hostname
/// checkpassword subprogram...</c> runs <c>checkpassword subprogram...</c> with
/// <c>user\0password\0timestamp\0</c> on fd 3. Exit 0 (the subprogram's, e.g.
/// /bin/true) accepts; 111, a signal, a failure to start or more than a minute
/// is a temporary failure; any other exit rejects.
/// </summary>
public sealed class Checkpassword(string hostname, string[] argv)
{
    public const int TimeoutSeconds = 60;

    public string Hostname => hostname;

    /// <summary>The timestamp field, <c>&lt;pid.time@hostname&gt;</c> as qmail-popup makes it.</summary>
    public byte[] Timestamp(long unixSeconds) =>
        System.Text.Encoding.UTF8.GetBytes($"<{Environment.ProcessId}.{unixSeconds}@{hostname}>");

    public AuthVerdict Verify(byte[] user, byte[] password, byte[] timestamp)
    {
        var input = SmtpAuthCodec.CheckpasswordInput(user, password, timestamp);
        int inRead = -1, inWrite = -1, outRead = -1, outWrite = -1, devNull = -1, pid = -1;
        try
        {
            if (!Libc.Pipe(out inRead, out inWrite) || !Libc.Pipe(out outRead, out outWrite)) return AuthVerdict.Unavailable;
            devNull = Libc.MoveHigh(Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0));
            if (devNull < 0) return AuthVerdict.Unavailable;
            // fds 0 and 1 are never the client's: under TLS they carry ciphertext, and a
            // checkpassword program has no business talking to the client anyway.
            pid = PosixSpawn.Start(argv[0], argv, null, [(0, devNull), (1, outWrite), (2, 2), (3, inRead)], newProcessGroup: true);
            Libc.Close(inRead); inRead = -1;
            Libc.Close(outWrite); outWrite = -1;
            Libc.WriteAll(inWrite, input); // at most 512 bytes: fits in the pipe whether it reads or not
            Array.Clear(input);
            Libc.Close(inWrite); inWrite = -1;

            var deadline = Environment.TickCount64 + TimeoutSeconds * 1000L;
            if (!DrainUntilClosed(outRead, deadline)) return AuthVerdict.Unavailable;
            var status = WaitUntil(pid, deadline);
            if (status is not { } s) return AuthVerdict.Unavailable;
            pid = -1;
            if (!Libc.Exited(s)) return AuthVerdict.Unavailable;
            return Libc.ExitCode(s) switch
            {
                0 => AuthVerdict.Accepted,
                111 => AuthVerdict.Unavailable,
                _ => AuthVerdict.Rejected,
            };
        }
        catch (SpawnException) { return AuthVerdict.Unavailable; }
        finally
        {
            Array.Clear(input);
            foreach (var fd in new[] { inRead, inWrite, outRead, outWrite, devNull })
                if (fd >= 0) Libc.Close(fd);
            if (pid > 0) { Libc.Kill(-pid, Libc.SIGKILL); Libc.Waitpid(pid, out _); }
        }
    }

    /// <summary>Reads and drops the program's output until it closes it; false when the deadline passes first.</summary>
    private static bool DrainUntilClosed(int fd, long deadline)
    {
        Span<byte> buf = stackalloc byte[512];
        Span<Libc.PollFd> p = stackalloc Libc.PollFd[1];
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            p[0] = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            if (left <= 0 || Libc.Poll(p, (int)left) == 0) return false;
            if (Libc.Read(fd, buf) <= 0) return true;
        }
    }

    private static int? WaitUntil(int pid, long deadline)
    {
        while (true)
        {
            var r = Libc.Waitpid(pid, out var status, Libc.WNOHANG);
            if (r == pid) return status;
            if (r < 0 || Environment.TickCount64 >= deadline) return null;
            Thread.Sleep(5);
        }
    }
}
