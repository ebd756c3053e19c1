namespace Jsmail.Inject;

/// <summary>
/// qmail-inject's qualification of an address (interfaces §9.4), on its tokens
/// in reverse order (index 0 is the last token): strip a source route, a
/// trailing '.', a trailing '@'; add "@defaulthost" when there is no '@'; turn a
/// final atom ending in '+' into ".plusdomain"; add ".defaultdomain" to a domain
/// without a dot that is not a literal. &lt;&gt; and x@[] are left alone.
/// </summary>
public sealed class AddressRewriter
{
    private readonly Token[] _defaultHost, _defaultDomain, _plusDomain; // each in reverse order

    /// <summary>Tokens of "@defaulthost", ".defaultdomain" and ".plusdomain" in reading order.</summary>
    public AddressRewriter(List<Token> atDefaultHost, List<Token> dotDefaultDomain, List<Token> dotPlusDomain)
    {
        _defaultHost = Reversed(atDefaultHost);
        _defaultDomain = Reversed(dotDefaultDomain);
        _plusDomain = Reversed(dotPlusDomain);
    }

    private static Token[] Reversed(List<Token> tokens)
    {
        var a = tokens.ToArray();
        Array.Reverse(a);
        return a;
    }

    public void Rewrite(List<Token> addr)
    {
        if (addr.Count == 0) return;
        if (addr.Count >= 2 && addr[1].Type == TokenType.At && addr[0].Type == TokenType.Literal && addr[0].Text.Length == 0)
            return;
        StripRoute(addr);
        if (addr.Count == 0) return;
        if (addr[0].Type == TokenType.Dot) addr.RemoveAt(0);
        if (addr.Count == 0) return;
        if (addr[0].Type == TokenType.At) addr.RemoveAt(0);
        if (addr.Count == 0) return;
        if (!addr.Exists(t => t.Type == TokenType.At)) addr.InsertRange(0, _defaultHost);
        Plus(addr);
        NoDot(addr);
    }

    // "@h1,@h2:user@host": everything up to the colon goes; with no colon, all of it.
    private static void StripRoute(List<Token> addr)
    {
        if (addr[^1].Type != TokenType.At) return;
        while (addr.Count > 0)
        {
            var last = addr[^1];
            addr.RemoveAt(addr.Count - 1);
            if (last.Type == TokenType.Colon) return;
        }
    }

    private void Plus(List<Token> addr)
    {
        var t = addr[0];
        if (t.Type != TokenType.Atom || t.Text.Length == 0 || t.Text[^1] != '+') return;
        addr[0] = t with { Text = t.Text[..^1] };
        addr.InsertRange(0, _plusDomain);
    }

    private void NoDot(List<Token> addr)
    {
        foreach (var t in addr)
        {
            if (t.Type == TokenType.Dot) return;
            if (t.Type == TokenType.At) break;
        }
        foreach (var t in addr)
        {
            if (t.Type == TokenType.Literal) return;
            if (t.Type == TokenType.At) break;
        }
        addr.InsertRange(0, _defaultDomain);
    }
}
