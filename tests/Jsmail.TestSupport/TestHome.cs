using System.Text;

namespace Jsmail.TestSupport;

/// <summary>
/// A qmail home made by the real scripts/install.sh from the published
/// programs: single-user (owned by the test's user; a copy of one made by
/// install.sh for the whole test run) or privileged (qmail's accounts, owners,
/// modes and the setuid jsmail-queue; install.sh each time).
/// </summary>
public sealed class TestHome : IDisposable
{
    private readonly TempDir _dir;

    public string Path { get; }
    public string Bin(string program) => System.IO.Path.Combine(Path, "bin", program);
    public string Queue(string relative) => System.IO.Path.Combine(Path, "queue", relative);
    public string Control(string name) => System.IO.Path.Combine(Path, "control", name);

    private TestHome(TempDir dir, string path)
    {
        _dir = dir;
        Path = path;
    }

    public static TestHome Install(bool privileged = false, string? publishedDir = null, string? parent = null)
    {
        var dir = new TempDir("jsmail-home");
        var path = System.IO.Path.Combine(parent ?? dir.Path, "home");
        var published = publishedDir ?? Repo.PublishedDir;
        if (privileged) RunInstall(path, published, privileged: true);
        else CopyTree(s_singleUserHomes.GetOrAdd(published, p => new Lazy<string>(() => InstallTemplate(p))).Value, path);
        return new TestHome(dir, path);
    }

    // A single-user home holds no path of its own (checked: nothing under it names
    // its prefix), so one install.sh run per published folder serves every test
    // as a copy: install.sh forks some 400 commands (3 s on an idle machine,
    // many more under CI's load), cp -a one.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> s_singleUserHomes = new();
    private static readonly TempDir s_templates = new("jsmail-home-templates");
    private static int s_templateCount;

    static TestHome() => AppDomain.CurrentDomain.ProcessExit += (_, _) => s_templates.Dispose();

    private static string InstallTemplate(string published)
    {
        var path = System.IO.Path.Combine(s_templates.Path, Interlocked.Increment(ref s_templateCount).ToString(), "home");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        RunInstall(path, published, privileged: false);
        return path;
    }

    private static void RunInstall(string path, string published, bool privileged)
    {
        var args = new List<string> { "--prefix", path, "--prebuilt", published };
        if (!privileged) args.Add("--single-user");
        var r = Run.Process(Repo.Script("install.sh"), args, timeoutMs: 120_000);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"install.sh failed ({r.ExitCode}): {r.Err}{r.Out}");
    }

    private static void CopyTree(string from, string to)
    {
        var r = Run.Process("cp", ["-a", "--", from, to], timeoutMs: 120_000);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"cp -a {from} {to} failed ({r.ExitCode}): {r.Err}");
    }

    public void WriteControl(string name, string content) =>
        File.WriteAllText(Control(name), content);

    /// <summary>Numeric names of the files in a queue directory (split subdirectories included).</summary>
    public List<string> Entries(string dir)
    {
        var root = Queue(dir);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(root, f)).OrderBy(f => f).ToList();
    }

    public byte[] ReadQueueFile(string relative) => File.ReadAllBytes(Queue(relative));

    public static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    public void Dispose() => _dir.Dispose();
}
