namespace Jsmail.Inject;

public enum TokenType : byte { Atom = 1, Quote, Literal, Comment, Comma, At, Dot, Left, Right, Semi, Colon }

/// <summary>One RFC 822 token as qmail's tokenizer sees it; Text holds the unescaped
/// contents of an atom, quoted string, domain literal or comment.</summary>
public readonly record struct Token(TokenType Type, byte[] Text)
{
    public static Token Special(TokenType type) => new(type, []);
    public bool IsWord => Type is TokenType.Atom or TokenType.Quote or TokenType.Literal or TokenType.Comment;
}

/// <summary>
/// qmail-inject's RFC 822 tokenizer and printer. Its choices are the contract of
/// "qmail-inject -n" (interfaces §9.5): CR and LF are white space, a nested
/// comment loses its inner parentheses, an atom holding a control byte, a byte
/// of 128 or more, ')' , ']' or '\' is printed as a quoted string, and a printed
/// list breaks after a comma once a line would pass 80 columns. Outside
/// JSMAIL_COMPAT=qmail the caller passes <c>utf8</c>: an atom whose 8-bit bytes
/// are well-formed UTF-8 stays an atom (RFC 6532 §3.2), so <c>Jörg</c> and
/// <c>jösé@x</c> are printed as they came, not as <c>"Jörg"</c>.
/// </summary>
public static class Token822
{
    public const int LineLength = 80;

    private static bool AtomOk(byte ch) => ch switch
    {
        (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'(' or (byte)'[' or (byte)'"'
            or (byte)'<' or (byte)'>' or (byte)';' or (byte)':' or (byte)'@' or (byte)',' or (byte)'.' => false,
        _ => true,
    };

    /// <summary>The tokens of a field or address, or null when it does not tokenize
    /// (an unbalanced ')' or ']', an unterminated comment, quoted string or literal).</summary>
    public static List<Token>? Parse(ReadOnlySpan<byte> s, bool utf8 = false)
    {
        var tokens = new List<Token>();
        var text = new List<byte>();
        for (var i = 0; i < s.Length; ++i)
        {
            switch (s[i])
            {
                case (byte)'.': tokens.Add(Token.Special(TokenType.Dot)); break;
                case (byte)',': tokens.Add(Token.Special(TokenType.Comma)); break;
                case (byte)'@': tokens.Add(Token.Special(TokenType.At)); break;
                case (byte)'<': tokens.Add(Token.Special(TokenType.Left)); break;
                case (byte)'>': tokens.Add(Token.Special(TokenType.Right)); break;
                case (byte)':': tokens.Add(Token.Special(TokenType.Colon)); break;
                case (byte)';': tokens.Add(Token.Special(TokenType.Semi)); break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n': break;
                case (byte)')' or (byte)']': return null;
                case (byte)'(':
                    if (!Enclosed(s, ref i, (byte)'(', (byte)')', nests: true, text)) return null;
                    tokens.Add(new Token(TokenType.Comment, text.ToArray()));
                    break;
                case (byte)'"':
                    if (!Enclosed(s, ref i, 0, (byte)'"', nests: false, text)) return null;
                    tokens.Add(new Token(TokenType.Quote, text.ToArray()));
                    break;
                case (byte)'[':
                    if (!Enclosed(s, ref i, 0, (byte)']', nests: false, text)) return null;
                    tokens.Add(new Token(TokenType.Literal, text.ToArray()));
                    break;
                default:
                    text.Clear();
                    do
                    {
                        if (s[i] == '\\' && ++i >= s.Length) break;
                        text.Add(s[i]);
                        if (++i >= s.Length) break;
                    } while (AtomOk(s[i]));
                    --i;
                    tokens.Add(new Token(NeedsQuoting(text, utf8) ? TokenType.Quote : TokenType.Atom, text.ToArray()));
                    break;
            }
        }
        return tokens;
    }

    // A comment keeps the text of nested comments but not their parentheses.
    private static bool Enclosed(ReadOnlySpan<byte> s, ref int i, byte open, byte close, bool nests, List<byte> text)
    {
        text.Clear();
        var level = 1;
        while (level > 0)
        {
            if (++i >= s.Length) return false;
            var ch = s[i];
            if (nests && ch == open) { ++level; continue; }
            if (ch == close) { --level; continue; }
            if (ch == '\\' && ++i >= s.Length) return false;
            text.Add(s[i]);
        }
        return true;
    }

    private static bool NeedsQuoting(List<byte> atom, bool utf8)
    {
        var utf8Word = utf8 && Jsmail.Common.Message.Utf8Mail.IsUtf8Text(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(atom));
        foreach (var ch in atom)
            if (ch < 32 || (ch > 126 && !(utf8Word && ch >= 128)) || ch == ')' || ch == ']' || ch == '\\') return true;
        return false;
    }

    private static bool NeedSpace(TokenType? before, TokenType next)
    {
        if (before is not { } t1) return false;
        if (t1 is TokenType.Colon or TokenType.Comma) return true;
        if (next == TokenType.Left) return true;
        return IsText(t1) && IsText(next);
    }

    private static bool IsText(TokenType t) => t is TokenType.Atom or TokenType.Literal or TokenType.Quote or TokenType.Comment;

    /// <summary>
    /// Prints tokens as qmail does, ending with LF. After every comma a line break
    /// ("\n ") is kept only if the line it would otherwise join would pass
    /// <paramref name="lineLength"/> columns; the length is measured with the
    /// previous break still in place, as qmail measures it.
    /// </summary>
    public static byte[] Unparse(IReadOnlyList<Token> tokens, int lineLength = LineLength)
    {
        var o = new List<byte>(64);
        var lineStart = 0;
        var pendingBreak = -1;
        TokenType? last = null;
        foreach (var t in tokens)
        {
            if (NeedSpace(last, t.Type)) o.Add((byte)' ');
            last = t.Type;
            if (SpecialByte(t.Type) is var special and not 0)
            {
                o.Add(special);
                if (t.Type == TokenType.Comma) Break();
                continue;
            }
            var (open, close) = t.Type switch
            {
                TokenType.Quote => ((byte)'"', (byte)'"'),
                TokenType.Literal => ((byte)'[', (byte)']'),
                TokenType.Comment => ((byte)'(', (byte)')'),
                _ => ((byte)0, (byte)0),
            };
            if (open != 0) o.Add(open);
            foreach (var ch in t.Text)
            {
                if (ch is (byte)'"' or (byte)'[' or (byte)']' or (byte)'(' or (byte)')' or (byte)'\\' or (byte)'\r' or (byte)'\n')
                    o.Add((byte)'\\');
                o.Add(ch);
            }
            if (close != 0) o.Add(close);
        }
        Break();
        o.RemoveAt(o.Count - 1);
        return o.ToArray();

        void Break()
        {
            var end = o.Count;
            if (pendingBreak >= 0 && end - lineStart <= lineLength)
            {
                o.RemoveRange(pendingBreak, 2);
                pendingBreak = o.Count;
            }
            else
            {
                if (pendingBreak >= 0) lineStart = pendingBreak + 1;
                pendingBreak = end;
            }
            o.Add((byte)'\n');
            o.Add((byte)' ');
        }
    }

    /// <summary>The byte a one-character token stands for, 0 for the tokens that carry text.</summary>
    private static byte SpecialByte(TokenType type) => type switch
    {
        TokenType.Comma => (byte)',',
        TokenType.At => (byte)'@',
        TokenType.Dot => (byte)'.',
        TokenType.Left => (byte)'<',
        TokenType.Right => (byte)'>',
        TokenType.Semi => (byte)';',
        TokenType.Colon => (byte)':',
        _ => 0,
    };

    /// <summary>An address as the envelope holds it: quotes and brackets of words
    /// removed (a literal keeps its brackets), comments dropped.</summary>
    public static byte[] Unquote(IEnumerable<Token> tokens)
    {
        var o = new List<byte>(32);
        foreach (var t in tokens)
            switch (t.Type)
            {
                case var type when SpecialByte(type) is var special and not 0: o.Add(special); break;
                case TokenType.Literal: o.Add((byte)'['); o.AddRange(t.Text); o.Add((byte)']'); break;
                case TokenType.Atom or TokenType.Quote: o.AddRange(t.Text); break;
            }
        return o.ToArray();
    }
}
