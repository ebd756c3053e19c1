using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

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
    private const int MaxOutput = 1024; // more than the reply line needs; the rest is read and dropped

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

    /// <summary>The CDB tables' answer; a program, if configured, is asked only when they accept (<see cref="ProgramRequest"/>).</summary>
    public CheckResult Check(CheckStage stage, byte[]? helo, byte[]? sender, byte[]? recipient) => stage switch
    {
        CheckStage.Helo => Listed(_badHelo, helo ?? []) ? Refused : CheckResult.Accepted,
        CheckStage.Mail => Listed(_badSender, sender ?? []) || ListedDomain(_badSender, sender ?? []) ? Refused : CheckResult.Accepted,
        _ => KnownRecipient(recipient ?? []) ? CheckResult.Accepted : Refused,
    };

    public bool HasProgram => _program != null;

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
        for (var i = 0; i < o.Length; i++) o[i] = AsciiCase.Lower(o[i]);
        return o;
    }

    /// <summary>
    /// The run of control/smtpcheck for one stage: <c>helo\0sender\0recipient\0\0</c>
    /// on fd 3, SMTPCHECK set to the stage in <paramref name="environment"/>.
    /// </summary>
    /// <param name="recipient">the recipient as the client gave it (before RELAYCLIENT's suffix)</param>
    /// <param name="environment">the child's environment before SMTPCHECK; null: this process's</param>
    public ChildRequest ProgramRequest(CheckStage stage, byte[]? helo, byte[]? sender, byte[]? recipient,
        IReadOnlyList<byte[]>? environment)
    {
        helo ??= [];
        sender ??= [];
        recipient ??= [];
        var input = new byte[helo.Length + sender.Length + recipient.Length + 4];
        helo.CopyTo(input, 0);
        sender.CopyTo(input, helo.Length + 1);
        recipient.CopyTo(input, helo.Length + sender.Length + 2);

        var env = environment == null ? Libc.EnvironmentEntries(without: "SMTPCHECK") : Without(environment, "SMTPCHECK="u8);
        env.Add(Encoding.ASCII.GetBytes("SMTPCHECK=" + stage switch
        {
            CheckStage.Helo => "helo",
            CheckStage.Mail => "mail",
            _ => "rcpt",
        }));
        var program = _program ?? throw new InvalidOperationException("no control/smtpcheck program");
        return new ChildRequest(program[0], ChildRequest.Utf8(program))
        {
            Environment = env,
            Fds = [ChildFd.DevNull(0), ChildFd.Capture(1, MaxOutput), ChildFd.Feed(3, input)],
            TimeLimit = TimeSpan.FromSeconds(ProgramTimeoutSeconds),
        };
    }

    /// <summary>What a run of the check program says: exit 0 accepts, 100 refuses, 111 defers, with its first output line.</summary>
    public static CheckResult ProgramVerdict(ChildResult result)
    {
        if (result.End != ChildEnd.Exited) return new CheckResult(CheckVerdict.Unavailable, null);
        return result.Code switch
        {
            0 => CheckResult.Accepted,
            100 => new CheckResult(CheckVerdict.Reject, FirstLine(result.Output(1))),
            111 => new CheckResult(CheckVerdict.Defer, FirstLine(result.Output(1))),
            _ => new CheckResult(CheckVerdict.Unavailable, null),
        };
    }

    private static List<byte[]> Without(IReadOnlyList<byte[]> environment, ReadOnlySpan<byte> prefix)
    {
        var list = new List<byte[]>(environment.Count + 1);
        foreach (var entry in environment)
            if (!entry.AsSpan().StartsWith(prefix)) list.Add(entry);
        return list;
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
