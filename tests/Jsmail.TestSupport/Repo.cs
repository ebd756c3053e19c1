namespace Jsmail.TestSupport;

/// <summary>Where the checkout and the published programs are.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The Native AOT programs published by scripts/publish.sh (the test command
    /// runs it first). JSMAIL_PUBLISHED overrides the folder.
    /// </summary>
    public static string PublishedDir =>
        Environment.GetEnvironmentVariable("JSMAIL_PUBLISHED") is { Length: > 0 } d
            ? d
            : Path.Combine(Root, "artifacts", "publish");

    public static string Program(string name)
    {
        var path = Path.Combine(PublishedDir, name);
        if (!File.Exists(path))
            throw new InvalidOperationException(
                $"{path} is missing: run scripts/publish.sh (scripts/test.sh does) before the program tests");
        return path;
    }

    public static string Script(string name) => Path.Combine(Root, "scripts", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Jsmail.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Jsmail.sln not found above " + AppContext.BaseDirectory);
    }
}
