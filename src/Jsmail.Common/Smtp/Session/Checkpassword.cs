using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

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

    /// <summary>
    /// The run that verifies one user: <c>user\0password\0timestamp\0</c> on fd 3.
    /// <paramref name="input"/> is that buffer: clear it once the run is over.
    /// </summary>
    public ChildRequest Request(byte[] user, byte[] password, byte[] timestamp, out byte[] input)
    {
        input = SmtpAuthCodec.CheckpasswordInput(user, password, timestamp);
        // fds 0 and 1 are never the client's: under TLS they carry ciphertext, and a
        // checkpassword program has no business talking to the client anyway.
        return new ChildRequest(argv[0], ChildRequest.Utf8(argv))
        {
            Fds = [ChildFd.DevNull(0), ChildFd.Capture(1, 0), ChildFd.Pass(2, 2), ChildFd.Feed(3, input)],
            TimeLimit = TimeSpan.FromSeconds(TimeoutSeconds),
        };
    }

    /// <summary>What a run of checkpassword says.</summary>
    public static AuthVerdict Verdict(ChildResult result)
    {
        if (result.End != ChildEnd.Exited) return AuthVerdict.Unavailable;
        return result.Code switch
        {
            0 => AuthVerdict.Accepted,
            111 => AuthVerdict.Unavailable,
            _ => AuthVerdict.Rejected,
        };
    }
}
