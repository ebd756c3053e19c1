using Jsmail.Common.Cdb;
using Jsmail.Common.Control;

namespace Jsmail.LSpawn;

/// <summary>
/// users/cdb lookup in qmail-lspawn's order (interfaces §4.3): the exact key
/// "!local\0", then ever shorter prefixes "!loc" that end in a wildcard
/// character (or are just "!"); a wildcard hit gets the rest of the original
/// local part appended to its ext.
/// </summary>
public static class UsersCdb
{
    public sealed class TroubleException(string why) : Exception(why);

    /// <returns>the assignment, or null when users/cdb assigns nothing to the local part</returns>
    /// <exception cref="TroubleException">unusable data (qmail exits 117 or 112)</exception>
    public static Assignment? Find(Func<byte[], byte[]?> lookup, ReadOnlySpan<byte> local, out bool malformed)
    {
        malformed = false;
        var key = new byte[local.Length + 2];
        key[0] = (byte)'!';
        for (var i = 0; i < local.Length; i++)
            key[i + 1] = AsciiCase.Lower(local[i]);

        if (lookup(key) is { } exact)
        {
            var a = Assignment.FromCdb(exact);
            malformed = a == null;
            return a;
        }
        var wild = lookup([]) ?? throw new TroubleException("users/cdb has no wildcard record");
        for (var i = local.Length + 1; i >= 1; i--)
        {
            if (i != 1 && wild.AsSpan().IndexOf(key[i - 1]) < 0) continue;
            if (lookup(key[..i]) is not { } data) continue;
            var a = Assignment.FromCdb(data);
            malformed = a == null;
            return a?.WithExtSuffix(local[(i - 1)..]);
        }
        return null;
    }

    /// <summary>
    /// The assignment users/cdb at <paramref name="path"/> gives the local part;
    /// null with <paramref name="failure"/> 0 when there is no users/cdb or it
    /// assigns nothing (qmail-getpw decides then), or null with qmail-lspawn's
    /// exit code for a users/cdb it cannot use.
    /// </summary>
    public static Assignment? Lookup(string path, ReadOnlySpan<byte> local, out int failure)
    {
        failure = 0;
        try
        {
            if (!CdbReader.TryOpen(path, out var cdb)) return null;
            using (cdb)
            {
                var found = Find(Over(cdb), local, out var malformed);
                if (malformed) failure = LspawnExit.Bug;
                return malformed ? null : found;
            }
        }
        catch (Exception e) when (e is IOException or TroubleException or CdbFormatException)
        {
            failure = LspawnExit.Cdb;
            return null;
        }
    }

    /// <summary>A lookup function over an open users/cdb.</summary>
    public static Func<byte[], byte[]?> Over(CdbReader cdb) => key => cdb.TryFind(key, out var data) ? data : null;
}
