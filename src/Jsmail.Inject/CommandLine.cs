using Jsmail.Common.Message;
using Jsmail.Common.Os;

namespace Jsmail.Inject;

/// <summary>qmail-inject [-nNaAhH] [-f sender] [recip ...] (interfaces §9.1).</summary>
public static class CommandLine
{
    public const string Options = "aAhHnNf:";

    /// <summary>
    /// Parses argv (argv[0] included). A bad option has been reported by getopt
    /// and gives an <see cref="InjectFatal"/> with no text of its own.
    /// </summary>
    public static InjectOptions Parse(IReadOnlyList<byte[]> argv, AddressRewriter rewriter)
    {
        var o = new InjectOptions();
        var getopt = new QmailGetopt(argv, Options);
        int c;
        while ((c = getopt.Next()) != QmailGetopt.End)
            switch (c)
            {
                case 'a': o.Strategy = RecipientStrategy.Args; break;
                case 'A': o.Strategy = RecipientStrategy.Default; break;
                case 'h': o.Strategy = RecipientStrategy.Header; break;
                case 'H': o.Strategy = RecipientStrategy.ArgsAndHeader; break;
                case 'n': o.Queue = false; break;
                case 'N': o.Queue = true; break;
                case 'f': o.Sender = Sender(getopt.Value!, rewriter); break;
                default: throw new InjectFatal(InjectFatal.Permanent, []);
            }
        var args = argv.Skip(getopt.Index).ToList();
        if (o.Strategy == RecipientStrategy.Default)
            o.Strategy = args.Count > 0 ? RecipientStrategy.Args : RecipientStrategy.Header;
        if (o.Strategy != RecipientStrategy.Header)
            foreach (var a in args) o.Recipients.Add(Recipient(a, rewriter));
        return o;
    }

    /// <summary>-f: quoted as an envelope address, qualified, unquoted; '' is the null sender.</summary>
    public static byte[] Sender(byte[] arg, AddressRewriter rewriter)
    {
        var quoted = AddressQuoting.Quote(HeaderRewriter.CString(arg));
        var tokens = Token822.Parse(quoted) ?? throw InjectFatal.ParseLine(quoted);
        tokens.Reverse();
        rewriter.Rewrite(tokens);
        tokens.Reverse();
        return Token822.Unquote(tokens);
    }

    /// <summary>A recipient from argv, qualified and unquoted.</summary>
    public static byte[] Recipient(byte[] arg, AddressRewriter rewriter)
    {
        var tokens = Token822.Parse(AddressQuoting.Quote(HeaderRewriter.CString(arg)))
                     ?? throw InjectFatal.Of(InjectFatal.Permanent, [.. "unable to parse address: "u8, .. arg, (byte)'\n']);
        tokens.Reverse();
        rewriter.Rewrite(tokens);
        tokens.Reverse();
        return Token822.Unquote(tokens);
    }
}
