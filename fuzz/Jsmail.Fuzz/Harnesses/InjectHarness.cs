using Jsmail.Inject;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>
/// qmail-inject's RFC 822 tokenizer and address-list rewriting: a header
/// field's text tokenized, printed, tokenized again; printing is stable, and
/// walking the addresses without changing them keeps the field.
/// Printing is stable only when every atom reads back as itself: qmail's
/// token822 quotes an atom only for a control byte, ')', ']' or a backslash,
/// so an escaped space or special ("D\ ", "\&gt;") and the empty atom of a lone
/// trailing backslash are printed bare and read back otherwise. jsmail-inject
/// prints as qmail-inject does, so for those the harness asks only that the
/// printed field tokenizes again.
/// </summary>
public static class InjectHarness
{
    public static void Run(byte[] data)
    {
        var tokens = Token822.Parse(data);
        if (tokens == null) return; // documented: does not tokenize
        var printed = Token822.Unparse(tokens);
        That(printed.Length > 0 && printed[^1] == (byte)'\n', "a printed field ends with LF");
        var again = Token822.Parse(printed);
        That(again != null, "printed tokens tokenize again");
        var reprinted = Token822.Unparse(again!);
        if (tokens.Exists(BareButUnreadable)) return;
        That(reprinted.AsSpan().SequenceEqual(printed), $"printing is stable: [{Convert.ToHexString(printed)}] then [{Convert.ToHexString(reprinted)}]");

        var rewritten = AddressList.Rewrite(tokens, address => _ = Token822.Unquote(address)); // "<>" is an empty address
        if (rewritten == null) return; // documented: a malformed list
        That(Token822.Parse(Token822.Unparse(rewritten)) != null, "a rebuilt field tokenizes");
    }

    private static bool BareButUnreadable(Token t) =>
        t.Type == TokenType.Atom && (t.Text.Length == 0 || Array.Exists(t.Text, b => !AtomByte(b)));

    private static bool AtomByte(byte b) =>
        b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'(' or (byte)'[' or (byte)'"'
            or (byte)'<' or (byte)'>' or (byte)';' or (byte)':' or (byte)'@' or (byte)',' or (byte)'.');
}
