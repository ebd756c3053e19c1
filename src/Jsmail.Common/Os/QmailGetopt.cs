using System.Text;

namespace Jsmail.Common.Os;

/// <summary>
/// qmail's getopt (djb's subgetopt with the sgetopt message), whose quirks are
/// part of what callers see: "-" alone is an argument and ends the options;
/// "--" ends them and is consumed, and so is anything else starting "--"; an
/// option letter that takes a value takes the rest of its argument or else
/// the next argument. A problem is reported as qmail does, on stderr:
/// "&lt;base name of argv[0]&gt;: illegal option -- x" or
/// "...: option requires an argument -- x", and Next returns '?'.
/// </summary>
public sealed class QmailGetopt(IReadOnlyList<byte[]> argv, string options)
{
    public const int End = -1;

    private int _pos;

    /// <summary>Index of the first argument not yet consumed.</summary>
    public int Index { get; private set; } = 1;

    /// <summary>The value of the last option that takes one.</summary>
    public byte[]? Value { get; private set; }

    /// <summary>The letter of the last problem ('?' result).</summary>
    public byte Problem { get; private set; }

    /// <summary>The text the last problem printed (without the program name), for tests.</summary>
    public string? ProblemText { get; private set; }

    /// <summary>Whether to print problems on fd 2 (qmail always does).</summary>
    public bool Report { get; init; } = true;

    /// <summary>Base name of argv[0]: how qmail's messages name the program.</summary>
    public static byte[] ProgramName(IReadOnlyList<byte[]> argv)
    {
        if (argv.Count == 0) return [];
        var a = argv[0];
        var slash = Array.LastIndexOf(a, (byte)'/');
        return a[(slash + 1)..];
    }

    /// <summary>Skips the rest of the current argument (sendmail's -E and -J take an optional glued value).</summary>
    public void SkipRestOfArgument()
    {
        if (Index < argv.Count) _pos = argv[Index].Length;
    }

    /// <summary>The next option letter, '?' on a problem, or <see cref="End"/>.</summary>
    public int Next()
    {
        var c = Step();
        if (c == '?' && Report)
        {
            var text = Index < argv.Count ? "illegal option -- " : "option requires an argument -- ";
            ProblemText = text + (char)Problem;
            var line = new List<byte>(ProgramName(argv));
            line.AddRange(Encoding.ASCII.GetBytes(": " + text));
            line.Add(Problem);
            line.Add((byte)'\n');
            Libc.WriteAll(2, line.ToArray());
        }
        return c;
    }

    private int Step()
    {
        Value = null;
        if (Index >= argv.Count) return End;
        if (_pos > 0 && _pos >= argv[Index].Length)
        {
            Index++;
            _pos = 0;
            if (Index >= argv.Count) return End;
        }
        var arg = argv[Index];
        if (_pos == 0)
        {
            if (arg.Length == 0 || arg[0] != '-') return End;
            _pos = 1;
            if (arg.Length == 1 || arg[1] == '-')
            {
                if (arg.Length > 1) Index++;
                _pos = 0;
                return End;
            }
        }
        var ch = arg[_pos++];
        var at = options.IndexOf((char)ch);
        if (ch == ':' || at < 0)
        {
            Problem = ch;
            return '?';
        }
        if (at + 1 < options.Length && options[at + 1] == ':')
        {
            var rest = arg[_pos..];
            Index++;
            _pos = 0;
            if (rest.Length == 0)
            {
                if (Index >= argv.Count)
                {
                    Problem = ch;
                    return '?';
                }
                rest = argv[Index++];
            }
            Value = rest;
        }
        return ch;
    }
}
