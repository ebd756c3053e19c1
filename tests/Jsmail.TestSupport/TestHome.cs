using System.Text;

namespace Jsmail.TestSupport;

/// <summary>
/// A qmail home made by the real scripts/install.sh from the published
/// programs: single-user (owned by the test's user) or privileged (qmail's
/// accounts, owners, modes and the setuid jsmail-queue).
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
        var args = new List<string> { "--prefix", path, "--prebuilt", publishedDir ?? Repo.PublishedDir };
        if (!privileged) args.Add("--single-user");
        var r = Run.Process(Repo.Script("install.sh"), args, timeoutMs: 120_000);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"install.sh failed ({r.ExitCode}): {r.Err}{r.Out}");
        return new TestHome(dir, path);
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
