namespace Jsmail.Common.Control;

/// <summary>
/// Who receives a local part: the six fields users/cdb stores and
/// qmail-getpw prints (interfaces §4.3, §4.6). The parsers give null for
/// malformed data, which qmail-lspawn reports as its own bug (exit 112).
/// </summary>
public sealed record UserAssignment(byte[] User, uint Uid, uint Gid, byte[] Home, byte[] Dash, byte[] Ext)
{
    /// <summary>users/cdb data: six fields separated by NUL, the last not terminated.</summary>
    public static UserAssignment? FromUsersCdb(ReadOnlySpan<byte> data) => Parse(data, terminated: false);

    /// <summary>qmail-getpw output: six NUL-terminated fields.</summary>
    public static UserAssignment? FromGetpw(ReadOnlySpan<byte> data) => Parse(data, terminated: true);

    private static UserAssignment? Parse(ReadOnlySpan<byte> data, bool terminated)
    {
        var f = new byte[6][];
        for (var i = 0; i < 6; i++)
        {
            var nul = data.IndexOf((byte)0);
            if (nul < 0)
            {
                if (terminated || i < 5) return null;
                nul = data.Length;
            }
            f[i] = data[..nul].ToArray();
            data = nul < data.Length ? data[(nul + 1)..] : default;
        }
        if (!Number(f[1], out var uid) || !Number(f[2], out var gid)) return null;
        return new UserAssignment(f[0], uid, gid, f[3], f[4], f[5]);
    }

    /// <summary>Leading decimal digits, as qmail's scan_ulong; at least one.</summary>
    private static bool Number(ReadOnlySpan<byte> s, out uint value)
    {
        value = 0;
        var digits = 0;
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9') break;
            value = unchecked(value * 10 + (uint)(b - '0'));
            digits++;
        }
        return digits > 0;
    }

    /// <summary>A wildcard assignment applied: the rest of the local part appended to ext.</summary>
    public UserAssignment WithExtSuffix(ReadOnlySpan<byte> rest) => this with { Ext = [.. Ext, .. rest] };
}
