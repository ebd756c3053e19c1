using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.RSpawn;

/// <summary>Whether jsmail-rspawn delivers through its session pool (the caller has ruled out compat and QMAILREMOTE).</summary>
internal static class PoolSwitch
{
    public const string ControlFile = "remotepool";

    /// <summary>
    /// On unless control/remotepool says 0, and only when the remote program
    /// on PATH is jsmail-remote (followed through links): a real qmail-remote
    /// keeps its one process per delivery.
    /// </summary>
    public static bool IsOn(string home, string program)
    {
        try
        {
            if (new ControlReader(home).ReadInt(ControlFile, 1) == 0) return false;
        }
        catch (ControlReadException) { return false; }
        if (Exec.FindOnPath(program) is not { } path) return false;
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            return Path.GetFileName(target).StartsWith("jsmail-remote", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }
}
