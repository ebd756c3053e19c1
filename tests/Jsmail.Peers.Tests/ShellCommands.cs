using System.Text.RegularExpressions;

namespace Jsmail.Peers.Tests;

/// <summary>
/// The words in command position of a shell script: at the start of a line,
/// after ; &amp; | &amp;&amp; || ( { $( and `, past variable assignments and the
/// words a command may follow (exec, then, do, !, ...); comments, quoted text
/// and arithmetic are left out first. Words that are no program of their own
/// (builtins, the script's functions, expansions) are left out too. A reader
/// for the scripts tests write, not a shell parser.
/// </summary>
public static partial class ShellCommands
{
    [GeneratedRegex(@"(?:^|\n|;|&&|\|\||\||&|\$\((?!\()|`|(?<![$(])\((?!\()|\{(?=[ \t\n]))[ \t]*")]
    private static partial Regex CommandStart();

    [GeneratedRegex(@"\G(?:[A-Za-z_][A-Za-z0-9_]*=(?:\([^)]*\)|""[^""]*""|'[^']*'|(?:[^\s;|&$(]|\$(?!\())*)[ \t]+)*")]
    private static partial Regex Assignments();

    [GeneratedRegex(@"\G[^\s;|&()<>`""'\\]+")]
    private static partial Regex Word();

    [GeneratedRegex(@"(?:^|\n|;)[ \t]*(?:function[ \t]+)?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\(\)")]
    private static partial Regex FunctionDefinition();

    /// <summary>Words a command may follow on its line.</summary>
    private static readonly HashSet<string> Leading = ["!", "command", "do", "elif", "else", "exec", "if", "then", "time", "until", "while"];

    private static readonly HashSet<string> Builtins =
    [
        ".", ":", "[", "[[", "]]", "{", "}", "!", "alias", "bg", "break", "builtin", "case", "cd", "command", "continue",
        "declare", "disown", "do", "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false",
        "fi", "for", "function", "getopts", "hash", "if", "in", "jobs", "kill", "let", "local", "mapfile", "printf",
        "pwd", "read", "readarray", "readonly", "return", "select", "set", "shift", "shopt", "source", "test", "then",
        "time", "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unset", "until", "wait", "while",
    ];

    /// <summary>A # that starts a word starts a comment, to the end of its line.</summary>
    [GeneratedRegex(@"(?<=^|[ \t\n;])#[^\n]*")]
    private static partial Regex Comment();

    /// <summary>The names of the functions a script defines (a benchmark calls those of the scripts it sources too).</summary>
    public static IEnumerable<string> Functions(string script) =>
        FunctionDefinition().Matches(Comment().Replace(script, "")).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"<<-?[ \t]*['""]?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex HereDocument();

    /// <summary>The command words, each with its line in the script (from 0).</summary>
    public static IEnumerable<(string Name, int Line)> Of(string script, IReadOnlySet<string> functions)
    {
        script = Unquoted(WithoutHereDocumentEnds(Comment().Replace(script, "")));
        foreach (Match start in CommandStart().Matches(script))
        {
            var at = start.Index + start.Length;
            while (true)
            {
                at += Assignments().Match(script, at).Length;
                var word = Word().Match(script, at);
                if (!word.Success) break;
                if (Leading.Contains(word.Value))
                {
                    // the command comes after: "exec prog", "then prog", "! prog"
                    at = word.Index + word.Length;
                    while (at < script.Length && script[at] is ' ' or '\t') at++;
                    continue;
                }
                if (IsProgram(word.Value) && !functions.Contains(word.Value))
                    yield return (word.Value, script.AsSpan(0, word.Index).Count('\n'));
                break;
            }
        }
    }

    /// <summary>The script with the lines that end its here-documents blanked (their text is kept: a script the script writes).</summary>
    private static string WithoutHereDocumentEnds(string script)
    {
        var ends = HereDocument().Matches(script).Select(m => m.Groups[1].Value).ToHashSet();
        return ends.Count == 0 ? script : string.Join('\n', script.Split('\n').Select(line => ends.Contains(line.Trim()) ? "" : line));
    }

    /// <summary>
    /// The script with quoted text blanked (to quote characters, so that a
    /// quoted command word stays a word, and one that is not a program): what
    /// is inside quotes is data (an awk or python program, a message) except a
    /// command substitution inside double quotes, which is kept. Arithmetic
    /// is blanked too.
    /// </summary>
    public static string Unquoted(string script)
    {
        var text = script.ToCharArray();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\') { i += 2; continue; }
            if (c == '\'')
            {
                var end = script.IndexOf('\'', i + 1);
                if (end < 0) end = text.Length - 1;
                Blank(text, i, end + 1);
                i = end + 1;
                continue;
            }
            if (c == '"') { i = DoubleQuoted(script, text, i + 1); continue; }
            if (c == '(' && i + 1 < text.Length && script[i + 1] == '(')
            {
                // arithmetic: (( )) and $(( )) hold no commands
                var end = script.IndexOf("))", i + 2, StringComparison.Ordinal);
                if (end < 0) end = text.Length - 2;
                Blank(text, i + 2, end);
                i = end + 2;
                continue;
            }
            i++;
        }
        return new string(text);
    }

    /// <summary>Blanks a double-quoted string from <paramref name="i"/> to its closing quote, but for its $( ) substitutions; returns the index past it.</summary>
    private static int DoubleQuoted(string script, char[] text, int i)
    {
        var depth = 0;
        for (; i < text.Length; i++)
        {
            var c = script[i];
            if (depth == 0 && c == '\\') { Blank(text, i, i + 2); i++; continue; }
            if (depth == 0 && c == '"') return i + 1;
            if (c == '$' && i + 1 < text.Length && script[i + 1] == '(') { depth++; i++; continue; }
            if (depth > 0 && c == '(') depth++;
            else if (depth > 0 && c == ')') depth--;
            else if (depth == 0 && c != '\n') text[i] = '"';
        }
        return i;
    }

    private static void Blank(char[] text, int from, int to)
    {
        for (var k = from; k < to && k < text.Length; k++)
            if (text[k] != '\n') text[k] = '"';
    }

    private static bool IsProgram(string word) =>
        !Builtins.Contains(word)
        && (char.IsAsciiLetter(word[0]) || word[0] == '/')
        && !word.Contains('=') && !word.Contains('{') && !word.Contains('$') && !word.EndsWith(')') && !word.EndsWith(':');
}
