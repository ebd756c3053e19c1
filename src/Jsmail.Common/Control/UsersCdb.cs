using Jsmail.Common.Cdb;

namespace Jsmail.Common.Control;

/// <summary>
/// users/cdb, the one format qmail-newu writes and qmail-lspawn reads
/// (interfaces §10.3, §4.3). Keys: "!" + the lower-cased local part + NUL for
/// an exact assignment, "!" + the lower-cased prefix for a wildcard one, and
/// the empty key for the record listing the bytes wildcard prefixes end in.
/// Data: user, uid, gid, home, dash, ext separated by NUL, the last not
/// terminated.
/// </summary>
public static class UsersCdb
{
    /// <summary>The key of the record holding the wildcard-terminating bytes.</summary>
    public static ReadOnlySpan<byte> WildcardEndsKey => [];

    /// <summary>The key of an exact assignment (users/assign "=local").</summary>
    public static byte[] ExactKey(ReadOnlySpan<byte> local) => Key(local, exact: true);

    /// <summary>The key of a wildcard assignment (users/assign "+prefix").</summary>
    public static byte[] WildcardKey(ReadOnlySpan<byte> prefix) => Key(prefix, exact: false);

    private static byte[] Key(ReadOnlySpan<byte> name, bool exact)
    {
        var key = new byte[1 + name.Length + (exact ? 1 : 0)]; // an exact key ends in the NUL it was allocated with
        key[0] = (byte)'!';
        for (var i = 0; i < name.Length; i++)
            key[1 + i] = AsciiCase.Lower(name[i]);
        return key;
    }

    /// <summary>The data of an assignment, its fields as users/assign spells them (uid and gid unchecked, as qmail-newu leaves them).</summary>
    public static byte[] Data(ReadOnlySpan<byte> user, ReadOnlySpan<byte> uid, ReadOnlySpan<byte> gid,
        ReadOnlySpan<byte> home, ReadOnlySpan<byte> dash, ReadOnlySpan<byte> ext) =>
        [.. user, 0, .. uid, 0, .. gid, 0, .. home, 0, .. dash, 0, .. ext];

    /// <summary>
    /// The assignment for <paramref name="local"/> in qmail-lspawn's order: the
    /// exact key, then ever shorter wildcard keys that end in a wildcard byte
    /// (or are just "!"); a wildcard hit gets the rest of the original-case
    /// local part appended to its ext.
    /// </summary>
    /// <returns>the assignment, or null when users/cdb assigns nothing to the local part</returns>
    /// <exception cref="CdbFormatException">users/cdb has no record of wildcard bytes (qmail: trouble reading users/cdb)</exception>
    public static UserAssignment? Find(Func<byte[], byte[]?> lookup, ReadOnlySpan<byte> local, out bool malformed)
    {
        malformed = false;
        var key = ExactKey(local);
        if (lookup(key) is { } exact)
        {
            var a = UserAssignment.FromUsersCdb(exact);
            malformed = a == null;
            return a;
        }
        var ends = lookup(WildcardEndsKey.ToArray()) ?? throw new CdbFormatException("users/cdb has no wildcard record");
        for (var i = local.Length + 1; i >= 1; i--) // key[..i] is the wildcard key of local[..(i - 1)]
        {
            if (i != 1 && ends.AsSpan().IndexOf(key[i - 1]) < 0) continue;
            if (lookup(key[..i]) is not { } data) continue;
            var a = UserAssignment.FromUsersCdb(data);
            malformed = a == null;
            return a?.WithExtSuffix(local[(i - 1)..]);
        }
        return null;
    }

    /// <summary>A lookup function over an open users/cdb.</summary>
    public static Func<byte[], byte[]?> Over(CdbReader cdb) => key => cdb.TryFind(key, out var data) ? data : null;
}
