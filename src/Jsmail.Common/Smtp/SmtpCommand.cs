namespace Jsmail.Common.Smtp;

public enum SmtpVerb { Unknown, Helo, Ehlo, Mail, Rcpt, Data, Rset, Noop, Vrfy, Help, Quit, Starttls, Auth, Bdat }

/// <summary>What is wrong with a command line before its verb is even looked at.</summary>
public enum SmtpLineFault { None, Nul, BareCr, EightBit }

/// <summary>
/// One command line split as qmail-smtpd splits it (interfaces §8.3): the line
/// is everything before LF, one trailing CR is dropped, the verb runs to the
/// first space and the argument starts after the run of spaces that follows.
/// </summary>
public readonly ref struct SmtpCommand
{
    public readonly ReadOnlySpan<byte> Verb;
    public readonly ReadOnlySpan<byte> Argument;
    public readonly SmtpVerb Kind;

    private SmtpCommand(ReadOnlySpan<byte> verb, ReadOnlySpan<byte> argument)
    {
        Verb = verb;
        Argument = argument;
        Kind = Classify(verb);
    }

    /// <param name="line">the line without its LF</param>
    public static SmtpCommand Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        var space = line.IndexOf((byte)' ');
        if (space < 0) return new SmtpCommand(line, default);
        var arg = line[(space + 1)..];
        while (arg.Length > 0 && arg[0] == (byte)' ') arg = arg[1..];
        return new SmtpCommand(line[..space], arg);
    }

    /// <summary>
    /// The first byte no client may put in a command: NUL, a CR other than the
    /// one before LF (it would reach addresses and logs), and, when 8-bit is not
    /// welcome, any byte above 127.
    /// </summary>
    public static SmtpLineFault Check(ReadOnlySpan<byte> line, bool allowEightBit)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        foreach (var b in line)
        {
            if (b == 0) return SmtpLineFault.Nul;
            if (b == (byte)'\r') return SmtpLineFault.BareCr;
        }
        if (!allowEightBit)
            foreach (var b in line)
                if (b > 127) return SmtpLineFault.EightBit;
        return SmtpLineFault.None;
    }

    public static SmtpVerb Classify(ReadOnlySpan<byte> verb)
    {
        if (verb.Length is < 4 or > 8) return SmtpVerb.Unknown;
        Span<byte> up = stackalloc byte[verb.Length];
        for (var i = 0; i < verb.Length; i++) up[i] = verb[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(verb[i] - 32) : verb[i];
        return up switch
        {
            _ when up.SequenceEqual("HELO"u8) => SmtpVerb.Helo,
            _ when up.SequenceEqual("EHLO"u8) => SmtpVerb.Ehlo,
            _ when up.SequenceEqual("MAIL"u8) => SmtpVerb.Mail,
            _ when up.SequenceEqual("RCPT"u8) => SmtpVerb.Rcpt,
            _ when up.SequenceEqual("DATA"u8) => SmtpVerb.Data,
            _ when up.SequenceEqual("RSET"u8) => SmtpVerb.Rset,
            _ when up.SequenceEqual("NOOP"u8) => SmtpVerb.Noop,
            _ when up.SequenceEqual("VRFY"u8) => SmtpVerb.Vrfy,
            _ when up.SequenceEqual("HELP"u8) => SmtpVerb.Help,
            _ when up.SequenceEqual("QUIT"u8) => SmtpVerb.Quit,
            _ when up.SequenceEqual("STARTTLS"u8) => SmtpVerb.Starttls,
            _ when up.SequenceEqual("AUTH"u8) => SmtpVerb.Auth,
            _ when up.SequenceEqual("BDAT"u8) => SmtpVerb.Bdat,
            _ => SmtpVerb.Unknown,
        };
    }

    /// <summary>
    /// Strips RFC 5321's <c>FROM:</c> / <c>TO:</c> keyword (case-insensitive,
    /// spaces allowed after the colon, as many clients send them); null when absent.
    /// </summary>
    public static int? AfterKeyword(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> upperKeyword)
    {
        if (argument.Length < upperKeyword.Length) return null;
        for (var i = 0; i < upperKeyword.Length; i++)
        {
            var b = argument[i];
            if (b is >= (byte)'a' and <= (byte)'z') b -= 32;
            if (b != upperKeyword[i]) return null;
        }
        var pos = upperKeyword.Length;
        while (pos < argument.Length && argument[pos] == (byte)' ') pos++;
        return pos;
    }
}
