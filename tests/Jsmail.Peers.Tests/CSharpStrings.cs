using System.Text;

namespace Jsmail.Peers.Tests;

/// <summary>A string literal of a C# source: where it is and its text (an interpolation hole reads "{}").</summary>
public sealed record Literal(int Start, int End, int Line, string Text);

/// <summary>
/// The string literals of a C# source, in order: regular, verbatim, raw and
/// interpolated ones, skipping comments and character literals. Enough of a
/// lexer to read what tests hand to programs, not a C# parser.
/// </summary>
public static class CSharpStrings
{
    public static List<Literal> Read(string code)
    {
        var found = new List<Literal>();
        var i = 0;
        while (i < code.Length)
        {
            if (At(code, i, "//")) { i = LineEnd(code, i); continue; }
            if (At(code, i, "/*")) { var e = code.IndexOf("*/", i + 2, StringComparison.Ordinal); i = e < 0 ? code.Length : e + 2; continue; }
            if (code[i] == '\'') { i = CharLiteralEnd(code, i); continue; }
            if (LiteralAt(code, i) is { } lit) { found.Add(lit); i = lit.End; continue; }
            i++;
        }
        return found;
    }

    /// <summary>The code alone: every literal and comment blanked out (same length, lines kept).</summary>
    public static string CodeOnly(string code)
    {
        var text = code.ToCharArray();
        void Blank(int from, int to)
        {
            for (var k = from; k < to && k < text.Length; k++)
                if (text[k] != '\n') text[k] = ' ';
        }
        var i = 0;
        while (i < code.Length)
        {
            var from = i;
            if (At(code, i, "//")) i = LineEnd(code, i);
            else if (At(code, i, "/*")) { var e = code.IndexOf("*/", i + 2, StringComparison.Ordinal); i = e < 0 ? code.Length : e + 2; }
            else if (code[i] == '\'') i = CharLiteralEnd(code, i);
            else if (LiteralAt(code, i) is { } lit) i = lit.End;
            else { i++; continue; }
            Blank(from, i);
        }
        return new string(text);
    }

    /// <summary>The literal starting at <paramref name="start"/> (its $ and @ prefix included), or null.</summary>
    private static Literal? LiteralAt(string code, int start)
    {
        if (start > 0 && (char.IsLetterOrDigit(code[start - 1]) || code[start - 1] == '_')) return null;
        int i = start, dollars = 0;
        var verbatim = false;
        while (i < code.Length && (code[i] == '$' || code[i] == '@'))
        {
            if (code[i] == '$') dollars++; else verbatim = true;
            i++;
        }
        if (i >= code.Length || code[i] != '"') return null;
        var quotes = 0;
        while (i + quotes < code.Length && code[i + quotes] == '"') quotes++;
        var line = 1 + code.AsSpan(0, start).Count('\n');
        if (quotes >= 3) return Raw(code, start, i + quotes, quotes, dollars, line);
        if (quotes == 2 && !verbatim) return new Literal(start, i + 2, line, "");
        return Quoted(code, start, i + 1, verbatim, dollars > 0, line);
    }

    private static Literal Raw(string code, int start, int from, int quotes, int dollars, int line)
    {
        var close = code.IndexOf(new string('"', quotes), from, StringComparison.Ordinal);
        if (close < 0) close = code.Length;
        var body = code[from..close];
        if (dollars > 0) body = Holes(body, dollars);
        var lines = body.Split('\n');
        if (lines.Length > 1)
        {
            // a multi-line raw literal loses the closing line's indentation on every line
            var indent = lines[^1];
            body = string.Join('\n', lines[1..^1].Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l));
        }
        return new Literal(start, Math.Min(code.Length, close + quotes), line, body);
    }

    private static Literal Quoted(string code, int start, int from, bool verbatim, bool interpolated, int line)
    {
        var text = new StringBuilder();
        var i = from;
        while (i < code.Length)
        {
            var c = code[i];
            if (c == '"')
            {
                if (verbatim && i + 1 < code.Length && code[i + 1] == '"') { text.Append('"'); i += 2; continue; }
                i++;
                break;
            }
            if (interpolated && c == '{')
            {
                if (i + 1 < code.Length && code[i + 1] == '{') { text.Append('{'); i += 2; continue; }
                i = HoleEnd(code, i + 1);
                text.Append("{}");
                continue;
            }
            if (interpolated && c == '}' && i + 1 < code.Length && code[i + 1] == '}') { text.Append('}'); i += 2; continue; }
            if (!verbatim && c == '\\' && i + 1 < code.Length)
            {
                i = Escape(code, i + 1, text);
                continue;
            }
            text.Append(c);
            i++;
        }
        return new Literal(start, i, line, text.ToString());
    }

    /// <summary>Appends the character an escape after its backslash stands for; returns the index past it.</summary>
    private static int Escape(string code, int i, StringBuilder text)
    {
        var e = code[i];
        var digits = e switch { 'u' => 4, 'U' => 8, 'x' => 4, _ => 0 };
        if (digits == 0)
        {
            text.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', 'a' => '\a', 'b' => '\b', 'f' => '\f', 'v' => '\v', 'e' => '\e', _ => e });
            return i + 1;
        }
        var end = i + 1;
        while (end < code.Length && end - i - 1 < digits && Uri.IsHexDigit(code[end])) end++;
        text.Append(char.ConvertFromUtf32(Convert.ToInt32(code[(i + 1)..end], 16)));
        return end;
    }

    /// <summary>A raw interpolated body with its holes ({{x}} for $$) read as "{}".</summary>
    private static string Holes(string body, int dollars)
    {
        var open = new string('{', dollars);
        var text = new StringBuilder();
        var i = 0;
        while (i < body.Length)
        {
            if (At(body, i, open)) { i = HoleEnd(body, i + dollars); text.Append("{}"); continue; }
            text.Append(body[i++]);
        }
        return text.ToString();
    }

    /// <summary>Just past the '}' that closes a hole opened before <paramref name="i"/>, past nested literals and braces.</summary>
    private static int HoleEnd(string code, int i)
    {
        var depth = 0;
        while (i < code.Length)
        {
            if (LiteralAt(code, i) is { } nested) { i = nested.End; continue; }
            if (code[i] == '\'') { i = CharLiteralEnd(code, i); continue; }
            if (code[i] == '{') depth++;
            else if (code[i] == '}' && depth-- == 0)
            {
                while (i < code.Length && code[i] == '}') i++;
                return i;
            }
            i++;
        }
        return i;
    }

    private static int CharLiteralEnd(string code, int i)
    {
        var j = i + 1;
        if (j < code.Length && code[j] == '\\') j++;
        j++;
        while (j < code.Length && code[j] != '\'' && code[j] != '\n') j++;
        return j + 1;
    }

    private static int LineEnd(string code, int i)
    {
        var e = code.IndexOf('\n', i);
        return e < 0 ? code.Length : e;
    }

    private static bool At(string s, int i, string what) => string.CompareOrdinal(s, i, what, 0, what.Length) == 0;
}
