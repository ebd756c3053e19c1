namespace Jsmail.Inject;

/// <summary>
/// Walks an address-list field (name, colon, list) right to left as qmail-inject
/// does: each address is handed to a callback as its tokens in reverse order
/// (the callback may rewrite them in place), and the field is rebuilt from the
/// rewritten addresses with everything else (display names, comments, group
/// names, separators) where it was. Two words in a row are two addresses, so a
/// comma is put between them. Callbacks run as addresses are found, so a field
/// that turns out to be malformed may already have reported the addresses to
/// the right of the fault.
/// </summary>
public static class AddressList
{
    /// <summary>The rebuilt field's tokens, or null when the list is malformed
    /// (';' inside a group, ':' outside one, '&gt;' without '&lt;').</summary>
    public static List<Token>? Rewrite(List<Token> field, Action<List<Token>> address)
    {
        var output = new List<Token>(field.Count + 8);
        var addr = new List<Token>();
        var inGroup = false;
        var wordOk = true;
        const int beginning = 2; // the field name and its colon
        var t = field.Count - 1;

        void Flush()
        {
            if (addr.Count == 0) return;
            Got();
        }
        void FlushComma()
        {
            if (addr.Count == 0) return;
            Got();
            output.Add(Token.Special(TokenType.Comma));
        }
        void Got()
        {
            address(addr);
            output.AddRange(addr);
            addr.Clear();
        }
        void AddrLeft() => addr.Add(field[t--]);
        void OutLeft() => output.Add(field[t--]);

        while (t >= beginning)
        {
            switch (field[t].Type)
            {
                case TokenType.Semi:
                    FlushComma();
                    if (inGroup) return null;
                    inGroup = true;
                    wordOk = true;
                    break;
                case TokenType.Colon:
                    Flush();
                    if (!inGroup) return null;
                    inGroup = false;
                    while (t >= beginning && field[t].Type != TokenType.Comma) OutLeft();
                    if (t >= beginning) OutLeft();
                    wordOk = true;
                    continue;
                case TokenType.Right:
                    FlushComma();
                    OutLeft();
                    while (t >= beginning && field[t].Type != TokenType.Left) AddrLeft();
                    Got(); // even when empty: <> is an address
                    if (t < beginning) return null;
                    OutLeft();
                    while (t >= beginning && field[t].Type is TokenType.Comment or TokenType.Atom or TokenType.Quote
                               or TokenType.At or TokenType.Dot)
                        OutLeft();
                    wordOk = false;
                    continue;
                case TokenType.Atom or TokenType.Quote or TokenType.Literal:
                    if (!wordOk) FlushComma();
                    wordOk = false;
                    AddrLeft();
                    continue;
                case TokenType.Comment:
                    break; // lexically a space: leaves wordOk alone
                case TokenType.Comma:
                    Flush();
                    wordOk = true;
                    break;
                default:
                    wordOk = true;
                    AddrLeft();
                    continue;
            }
            OutLeft();
        }
        Flush();
        ++t;
        while (t > 0) output.Add(field[--t]);
        output.Reverse();
        return output;
    }
}
