namespace Jsmail.TestSupport;

/// <summary>One line of scripts/peers.list: a Debian package and the command or Python module it provides.</summary>
public sealed record Peer(string Package, string Provides, string Origin)
{
    public const string ModulePrefix = "python3:";

    /// <summary>The module /usr/bin/python3 imports, or null for a command.</summary>
    public string? Module => Provides.StartsWith(ModulePrefix, StringComparison.Ordinal) ? Provides[ModulePrefix.Length..] : null;
}

/// <summary>
/// scripts/peers.list, the one list of the outside programs and Python modules
/// the tests and benchmarks use (scripts/install-peers.sh installs them). Run
/// refuses to start an outside program the list does not name, so a test that
/// starts one fails on every machine, not only on a fresh one.
/// </summary>
public static class PeerList
{
    private static IReadOnlyList<Peer>? _all;

    public static string FilePath => Repo.Script("peers.list");

    public static IReadOnlyList<Peer> All => _all ??= Parse(File.ReadAllLines(FilePath));

    public static IReadOnlyList<Peer> Parse(IEnumerable<string> lines)
    {
        var peers = new List<Peer>();
        foreach (var line in lines)
        {
            var hash = line.IndexOf('#');
            var fields = (hash < 0 ? line : line[..hash]).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            if (fields.Length > 3) throw new FormatException($"peers.list: more than package, provides, origin: {line}");
            peers.Add(new Peer(fields[0], fields.Length > 1 ? fields[1] : throw new FormatException($"peers.list: no provides: {line}"),
                fields.Length > 2 ? fields[2] : ""));
        }
        return peers;
    }

    /// <summary>
    /// A program that comes from outside jsmail: a name looked up on PATH, or
    /// a path in the system's directories. Anything else (a published
    /// program, a test home's bin, a script the test wrote, the repository's
    /// scripts) is jsmail's own or the test's.
    /// </summary>
    public static bool IsOutsideProgram(string file) =>
        !file.Contains('/') || SystemDirectories.Any(d => file.StartsWith(d, StringComparison.Ordinal));

    private static readonly string[] SystemDirectories = ["/usr/", "/bin/", "/sbin/", "/lib/", "/opt/"];

    /// <summary>
    /// Whether the list names this program: the same absolute path, or the
    /// same name when the use or the list gives a bare name (found on PATH).
    /// </summary>
    public static bool Names(string program)
    {
        foreach (var peer in All)
        {
            if (peer.Module != null) continue;
            if (peer.Provides == program) return true;
            if ((!program.Contains('/') || !peer.Provides.Contains('/')) && Path.GetFileName(peer.Provides) == Path.GetFileName(program))
                return true;
        }
        return false;
    }

    public static bool NamesModule(string module) => All.Any(p => p.Module == module);

    /// <summary>Throws when <paramref name="file"/> is an outside program the list does not name.</summary>
    public static void RequireListed(string file)
    {
        if (IsOutsideProgram(file) && !Names(file))
            throw new InvalidOperationException(
                $"{file} is an outside program that scripts/peers.list does not name: add its Debian package there");
    }
}
