using Jsmail.Common.Cdb;
using Jsmail.Common.Control;

namespace Jsmail.LSpawn;

/// <summary>users/cdb as qmail-lspawn consults it: its outcomes as lspawn's exit codes.</summary>
public static class UsersCdbFile
{
    /// <summary>
    /// The assignment users/cdb at <paramref name="path"/> gives the local part;
    /// null with <paramref name="failure"/> 0 when there is no users/cdb or it
    /// assigns nothing (qmail-getpw decides then), or null with qmail-lspawn's
    /// exit code for a users/cdb it cannot use.
    /// </summary>
    public static UserAssignment? Lookup(string path, ReadOnlySpan<byte> local, out int failure)
    {
        failure = 0;
        try
        {
            if (!CdbReader.TryOpen(path, out var cdb)) return null;
            using (cdb)
            {
                var found = UsersCdb.Find(UsersCdb.Over(cdb), local, out var malformed);
                if (malformed) failure = LspawnExit.Bug;
                return malformed ? null : found;
            }
        }
        catch (IOException) // CdbFormatException included
        {
            failure = LspawnExit.Cdb;
            return null;
        }
    }
}
