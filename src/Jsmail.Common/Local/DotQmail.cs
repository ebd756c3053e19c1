using Jsmail.Common.Control;

namespace Jsmail.Common.Local;

/// <summary>A .qmail file worth trying, and the DEFAULT it implies when it is the one found.</summary>
public readonly record struct DotQmailCandidate(byte[] Name, byte[]? Default);

/// <summary>One instruction line of a .qmail file (interfaces §5.7).</summary>
public enum InstructionKind { Blank, Comment, Maildir, Mbox, Program, ListMode, Ignored, Forward }

public readonly record struct Instruction(InstructionKind Kind, byte[] Argument);

/// <summary>The pure parts of qmail-local's .qmail handling (interfaces §5.5, §5.7).</summary>
public static class DotQmail
{
    /// <summary>ext lowercased, dots turned into colons: no ".." can reach a file name.</summary>
    public static byte[] SafeExt(ReadOnlySpan<byte> ext)
    {
        var o = AsciiCase.ToLower(ext);
        o.AsSpan().Replace((byte)'.', (byte)':');
        return o;
    }

    /// <summary>The search order: .qmail-ext, then each -default from the longest.</summary>
    public static List<DotQmailCandidate> Candidates(ReadOnlySpan<byte> dash, ReadOnlySpan<byte> ext)
    {
        var safe = SafeExt(ext);
        var list = new List<DotQmailCandidate>();
        var exact = Concat(".qmail"u8, dash, safe, default);
        byte[]? exactDefault = null;
        if (safe.Length >= 7 && safe.AsSpan(safe.Length - 7).SequenceEqual("default"u8) && safe.Length - 7 <= ext.Length)
            exactDefault = ext[(safe.Length - 7)..].ToArray();
        list.Add(new DotQmailCandidate(exact, exactDefault));
        for (var i = safe.Length; i >= 0; i--)
        {
            if (i != 0 && safe[i - 1] != (byte)'-') continue;
            list.Add(new DotQmailCandidate(Concat(".qmail"u8, dash, safe.AsSpan(0, i), "default"u8), ext[i..].ToArray()));
        }
        return list;
    }

    /// <summary>.qmail&lt;dash&gt;&lt;safeext&gt;-owner and its -owner-default (interfaces §5.6).</summary>
    public static (byte[] Owner, byte[] OwnerDefault) OwnerFiles(ReadOnlySpan<byte> dash, ReadOnlySpan<byte> ext)
    {
        var safe = SafeExt(ext);
        return (Concat(".qmail"u8, dash, safe, "-owner"u8), Concat(".qmail"u8, dash, safe, "-owner-default"u8));
    }

    /// <summary>
    /// The instructions in file order. Trailing blanks are stripped; a line is
    /// classified by its first byte and, for files, its last; its argument is
    /// read as a C string, up to its first NUL, as qmail's own code sees it.
    /// </summary>
    public static List<Instruction> Parse(ReadOnlySpan<byte> content)
    {
        var list = new List<Instruction>();
        while (!content.IsEmpty)
        {
            var nl = content.IndexOf((byte)'\n');
            var line = nl < 0 ? content : content[..nl];
            content = nl < 0 ? default : content[(nl + 1)..];
            var k = line.Length;
            while (k > 0 && line[k - 1] is (byte)' ' or (byte)'\t') k--;
            line = line[..k];
            list.Add(Classify(line));
        }
        return list;
    }

    private static Instruction Classify(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || line[0] == 0) return new(InstructionKind.Blank, []);
        return line[0] switch
        {
            (byte)'#' => new(InstructionKind.Comment, []),
            (byte)'.' or (byte)'/' => new(line[^1] == (byte)'/' ? InstructionKind.Maildir : InstructionKind.Mbox, CString(line)),
            (byte)'|' => new(InstructionKind.Program, CString(line[1..])),
            (byte)'+' => new(CString(line[1..]).AsSpan().SequenceEqual("list"u8) ? InstructionKind.ListMode : InstructionKind.Ignored, []),
            (byte)'&' => new(InstructionKind.Forward, CString(line[1..])),
            _ => new(InstructionKind.Forward, CString(line)),
        };
    }

    private static byte[] CString(ReadOnlySpan<byte> s)
    {
        var nul = s.IndexOf((byte)0);
        return (nul < 0 ? s : s[..nul]).ToArray();
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, ReadOnlySpan<byte> d) =>
        [.. a, .. b, .. c, .. d];
}
