using System.Collections;
using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Smtpd;

public enum CheckStage { Helo, Mail, Rcpt }

public enum CheckVerdict { Accept, Reject, Defer, Unavailable }

/// <summary>A check's answer, with the reply text the check chose (null: the default text).</summary>
public readonly record struct CheckResult(CheckVerdict Verdict, byte[]? Text)
{
    public static readonly CheckResult Accepted = new(CheckVerdict.Accept, null);
}

/// <summary>
/// Checks run while the envelope is given, so that what would bounce later is
/// refused now (docs/jsmail-smtpd.md "Checks"). Either CDB tables in control/
/// (badhelo.cdb, badmailfrom.cdb, validrcptto.cdb), or one program named in
/// control/smtpcheck, run checkpassword-style with <c>helo\0sender\0recipient\0\0</c>
/// on fd 3: exit 0 accepts, 100 refuses, 111 defers; its first output line, if
/// any, becomes the reply text.
/// </summary>
public sealed class SmtpChecks
{
    public const int ProgramTimeoutSeconds = 60;
    public const int MaxReplyText = 200;

    public static readonly SmtpChecks None = new(null, null, null, null);

    private readonly CdbReader? _badHelo, _badSender, _validRcpt;
    private readonly string[]? _program;

    private SmtpChecks(CdbReader? badHelo, CdbReader? badSender, CdbReader? validRcpt, string[]? program)
    {
        _badHelo = badHelo;
        _badSender = badSender;
        _validRcpt = validRcpt;
        _program = program;
    }

    public static SmtpChecks Read(ControlReader controls, string home)
    {
        var line = controls.ReadLine("smtpcheck", fallbackToMe: false, literalDefault: []);
        var program = line.Length == 0 ? null
            : Encoding.UTF8.GetString(line).Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries);
        return new SmtpChecks(Open("badhelo.cdb"), Open("badmailfrom.cdb"), Open("validrcptto.cdb"),
            program is { Length: > 0 } ? program : null);

        CdbReader? Open(string name)
        {
            try { return CdbReader.TryOpen(Path.Combine(home, "control", name), out var r) ? r : null; }
            catch (IOException) { throw new ControlReadException(name, Errno.EIO); }
        }
    }

    /// <param name="recipient">the recipient as the client gave it (before RELAYCLIENT's suffix)</param>
    public CheckResult Check(CheckStage stage, byte[]? helo, byte[]? sender, byte[]? recipient)
    {
        var table = stage switch
        {
            CheckStage.Helo => Listed(_badHelo, helo ?? []) ? Refused : CheckResult.Accepted,
            CheckStage.Mail => Listed(_badSender, sender ?? []) || ListedDomain(_badSender, sender ?? []) ? Refused : CheckResult.Accepted,
            _ => KnownRecipient(recipient ?? []) ? CheckResult.Accepted : Refused,
        };
        if (table.Verdict != CheckVerdict.Accept || _program == null) return table;
        return RunProgram(stage, helo ?? [], sender ?? [], recipient ?? []);
    }

    private static readonly CheckResult Refused = new(CheckVerdict.Reject, null);

    private static bool Listed(CdbReader? cdb, byte[] key) =>
        cdb != null && key.Length > 0 && cdb.TryFind(Lower(key), out _);

    private static bool ListedDomain(CdbReader? cdb, byte[] address)
    {
        var at = Array.LastIndexOf(address, (byte)'@');
        return cdb != null && at >= 0 && cdb.TryFind(Lower(address.AsSpan(at)), out _);
    }

    /// <summary>
    /// validrcptto.cdb lists <c>@domain</c> for every domain it covers and the
    /// valid addresses of those domains; other domains are not its business.
    /// </summary>
    private bool KnownRecipient(byte[] recipient)
    {
        if (_validRcpt == null) return true;
        var at = Array.LastIndexOf(recipient, (byte)'@');
        if (at < 0 || !_validRcpt.TryFind(Lower(recipient.AsSpan(at)), out _)) return true;
        return _validRcpt.TryFind(Lower(recipient), out _);
    }

    private static byte[] Lower(ReadOnlySpan<byte> s)
    {
        var o = s.ToArray();
        for (var i = 0; i < o.Length; i++) if (o[i] is >= (byte)'A' and <= (byte)'Z') o[i] += 32;
        return o;
    }

    private CheckResult RunProgram(CheckStage stage, byte[] helo, byte[] sender, byte[] recipient)
    {
        var input = new List<byte>(helo.Length + sender.Length + recipient.Length + 4);
        input.AddRange(helo); input.Add(0);
        input.AddRange(sender); input.Add(0);
        input.AddRange(recipient); input.Add(0);
        input.Add(0);

        int inRead = -1, inWrite = -1, outRead = -1, outWrite = -1, devNull = -1, pid = -1;
        try
        {
            if (!Libc.Pipe(out inRead, out inWrite) || !Libc.Pipe(out outRead, out outWrite))
                return new CheckResult(CheckVerdict.Unavailable, null);
            devNull = Libc.MoveHigh(Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0));
            var env = new List<string>();
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
                if ((string)e.Key != "SMTPCHECK") env.Add($"{e.Key}={e.Value}");
            env.Add("SMTPCHECK=" + stage.ToString().ToLowerInvariant());
            pid = PosixSpawn.Start(_program![0], _program, env, [(0, devNull), (1, outWrite), (3, inRead)], newProcessGroup: true);
            Libc.Close(inRead); inRead = -1;
            Libc.Close(outWrite); outWrite = -1;
            // At most a pipe's worth, so writing cannot block on a program that does not read.
            Libc.WriteAll(inWrite, input.Count <= 4096 ? input.ToArray() : input.ToArray()[..4096]);
            Libc.Close(inWrite); inWrite = -1;

            var output = ReadBounded(outRead, out var timedOut);
            if (timedOut) { Libc.Kill(-pid, Libc.SIGKILL); Libc.Waitpid(pid, out _); return new CheckResult(CheckVerdict.Unavailable, null); }
            Libc.Waitpid(pid, out var status);
            pid = -1;
            var text = FirstLine(output);
            if (!Libc.Exited(status)) return new CheckResult(CheckVerdict.Unavailable, null);
            return Libc.ExitCode(status) switch
            {
                0 => CheckResult.Accepted,
                100 => new CheckResult(CheckVerdict.Reject, text),
                111 => new CheckResult(CheckVerdict.Defer, text),
                _ => new CheckResult(CheckVerdict.Unavailable, null),
            };
        }
        catch (SpawnException) { return new CheckResult(CheckVerdict.Unavailable, null); }
        finally
        {
            foreach (var fd in new[] { inRead, inWrite, outRead, outWrite, devNull })
                if (fd >= 0) Libc.Close(fd);
            if (pid > 0) { Libc.Kill(-pid, Libc.SIGKILL); Libc.Waitpid(pid, out _); }
        }
    }

    private static byte[] ReadBounded(int fd, out bool timedOut)
    {
        timedOut = false;
        var kept = new List<byte>();
        var deadline = Environment.TickCount64 + ProgramTimeoutSeconds * 1000L;
        Span<byte> buf = stackalloc byte[512];
        Span<Libc.PollFd> p = stackalloc Libc.PollFd[1];
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            p[0] = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            if (left <= 0 || Libc.Poll(p, (int)left) == 0) { timedOut = true; return kept.ToArray(); }
            var n = Libc.Read(fd, buf);
            if (n <= 0) return kept.ToArray();
            if (kept.Count < 1024) kept.AddRange(buf[..Math.Min(n, 1024 - kept.Count)]);
        }
    }

    /// <summary>The first line, printable ASCII only, so nothing from the program can break the reply.</summary>
    private static byte[]? FirstLine(byte[] output)
    {
        var end = Array.IndexOf(output, (byte)'\n');
        var line = end < 0 ? output : output[..end];
        var clean = line.Where(b => b is >= 32 and < 127).Take(MaxReplyText).ToArray();
        var s = Encoding.ASCII.GetString(clean).Trim();
        return s.Length == 0 ? null : Encoding.ASCII.GetBytes(s);
    }
}
