namespace Jsmail.Common.Local;

/// <summary>qmail-local's arguments (interfaces §5.1), as bytes.</summary>
public sealed record LocalArgs(bool Deliver, byte[] User, byte[] Home, byte[] Local, byte[] Dash, byte[] Ext,
    byte[] Domain, byte[] Sender, byte[] DefaultDelivery)
{
    public const string Usage = "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty";

    /// <summary>getopt("nN") over argv (argv[0] excluded); null means usage.</summary>
    public static LocalArgs? Parse(IReadOnlyList<byte[]> args)
    {
        var deliver = true;
        var i = 0;
        for (; i < args.Count; i++)
        {
            var a = args[i];
            if (a.Length < 2 || a[0] != (byte)'-') break;
            if (a is [(byte)'-', (byte)'-']) { i++; break; }
            foreach (var c in a.AsSpan(1))
            {
                if (c == (byte)'n') deliver = false;
                else if (c == (byte)'N') deliver = true;
                else return null;
            }
        }
        if (args.Count - i != 8) return null;
        var p = args.Skip(i).ToArray();
        if (p[1].Length == 0 || p[1][0] != (byte)'/') return null;
        return new LocalArgs(deliver, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    }
}
