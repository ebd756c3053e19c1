using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Peers.Tests;

/// <summary>A name a source uses, and where ("tests/X/Y.cs:12").</summary>
public sealed record Use(string Name, string Where);

/// <summary>A piece of code in another language (shell, Python) found in a source, and the line of the source it starts on.</summary>
public sealed record Embedded(string Text, string File, int Line)
{
    /// <summary>"file:line" of a line of the code (from 0).</summary>
    public string At(int line) => $"{File}:{Line + line}";
}

/// <summary>
/// The sources of tests/ and bench/ (C#, shell, Python; build output left
/// out), read for the ways they start programs and the code they hand to
/// shells and to Python.
/// </summary>
public static partial class TestSources
{
    /// <summary>The one file of the tests allowed to start processes itself.</summary>
    public const string Starter = "tests/Jsmail.TestSupport/Run.cs";

    /// <summary>
    /// The benchmark driver, a program of its own that cannot use the tests'
    /// Run: it starts the programs its command line names (bench/*.sh hand it
    /// jsmail's programs and the hello world), with jsmail's own spawn.
    /// </summary>
    public const string BenchDriver = "bench/Jsmail.Bench/Program.cs";

    private static readonly string[] Shells = ["/bin/bash", "bash", "/bin/sh", "sh"];
    private static readonly string[] Pythons = ["/usr/bin/python3", "python3"];

    [GeneratedRegex(@"\b\w*Spawn\w*\s*\.\s*(?:Start|Run|Exec)\w*\s*\(|\bProcessStartInfo\b|\bProcess\s*\.\s*Start\s*\(|\bnew\s+(?:System\.Diagnostics\.)?Process\s*\(|\b(?:execv|execve|execvp|fork|vfork|posix_spawn|posix_spawnp|system)\b\s*\(")]
    private static partial Regex ProcessStart();

    [GeneratedRegex(@"\bRun\s*\.\s*(?:Process|Start)\s*\(")]
    private static partial Regex RunCall();

    [GeneratedRegex(@"\b(?:Shell|Sh)\s*\(")]
    private static partial Regex ShellCall();

    public static IEnumerable<string> Files(string extension) =>
        new[] { "tests", "bench" }
            .Select(d => Path.Combine(Repo.Root, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*" + extension, SearchOption.AllDirectories))
            .Where(f => !Relative(f).Split('/').Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal);

    public static string Relative(string path) => Path.GetRelativePath(Repo.Root, path).Replace('\\', '/');

    /// <summary>Every place outside <see cref="Starter"/> and <see cref="BenchDriver"/> that starts a process by its own means.</summary>
    public static List<Use> OwnProcessStarts() =>
        Files(".cs").Where(f => Relative(f) is not (Starter or BenchDriver)).SelectMany(f =>
        {
            var code = CSharpStrings.CodeOnly(File.ReadAllText(f));
            return ProcessStart().Matches(code).Select(m => new Use(m.Value.Trim(), Where(f, code, m.Index)));
        }).ToList();

    /// <summary>The programs named by a literal as Run.Process's or Run.Start's whole first argument (a computed one is checked by Run when it runs).</summary>
    public static List<Use> ProgramsHandedToRun() =>
        Files(".cs").SelectMany(f =>
        {
            var source = File.ReadAllText(f);
            var code = CSharpStrings.CodeOnly(source);
            var literals = CSharpStrings.Read(source).ToDictionary(l => l.Start);
            return RunCall().Matches(code)
                .Select(m => literals.GetValueOrDefault(SkipSpace(source, m.Index + m.Length)))
                .OfType<Literal>()
                .Where(l => SkipSpace(source, l.End) < source.Length && source[SkipSpace(source, l.End)] is ',' or ')')
                .Select(l => new Use(l.Text, Where(f, l)));
        }).ToList();

    /// <summary>
    /// Shell scripts: bench/*.sh and, in C# sources, the literals handed to
    /// Run.Shell (or a helper named Sh) as the script, the literal after "-c"
    /// for a shell, scripts written with a #! line, and .qmail program lines
    /// (a literal that starts with |).
    /// </summary>
    public static List<Embedded> ShellScripts()
    {
        var scripts = Files(".sh").Select(f => new Embedded(File.ReadAllText(f), Relative(f), 1)).ToList();
        foreach (var f in Files(".cs"))
        {
            var source = File.ReadAllText(f);
            var code = CSharpStrings.CodeOnly(source);
            var literals = CSharpStrings.Read(source);
            foreach (Match m in ShellCall().Matches(code))
            {
                var end = FirstArgumentEnd(code, m.Index + m.Length);
                scripts.AddRange(literals.Where(l => l.Start >= m.Index + m.Length && l.End <= end).Select(l => Embed(f, l)));
            }
            for (var i = 1; i + 1 < literals.Count; i++)
                if (literals[i].Text == "-c" && Shells.Contains(literals[i - 1].Text))
                    scripts.Add(Embed(f, literals[i + 1]));
            foreach (var l in literals)
            {
                if (l.Text.StartsWith("#!", StringComparison.Ordinal) && l.Text.Split('\n')[0].EndsWith("sh", StringComparison.Ordinal))
                    scripts.Add(Embed(f, l));
                if (l.Text.StartsWith('|'))
                    foreach (var line in l.Text.Split('\n', '\0').Where(line => line.StartsWith('|')))
                        scripts.Add(Embed(f, l) with { Text = line[1..] });
            }
        }
        return scripts;
    }

    /// <summary>Python code: tests' .py files, every C# literal (Python code is the only kind that imports), and the shell scripts' python3 -c programs.</summary>
    public static List<Embedded> PythonCode()
    {
        var code = Files(".py").Concat(Files(".sh")).Select(f => new Embedded(File.ReadAllText(f), Relative(f), 1)).ToList();
        foreach (var f in Files(".cs"))
            code.AddRange(CSharpStrings.Read(File.ReadAllText(f)).Select(l => Embed(f, l)));
        return code;
    }

    /// <summary>The names a Python file next to the code could be importing (tests/**/peers/x.py imports x).</summary>
    public static HashSet<string> LocalModules() =>
        Files(".py").Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet();

    /// <summary>Where a first argument starting at <paramref name="from"/> ends: the first , or ) outside brackets.</summary>
    private static int FirstArgumentEnd(string code, int from)
    {
        var depth = 0;
        for (var i = from; i < code.Length; i++)
        {
            var c = code[i];
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}' && depth-- == 0) return i;
            else if (c == ',' && depth == 0) return i;
        }
        return code.Length;
    }

    private static int SkipSpace(string source, int i)
    {
        while (i < source.Length && char.IsWhiteSpace(source[i])) i++;
        return i;
    }

    private static string Where(string file, Literal l) => $"{Relative(file)}:{l.Line}";

    /// <summary>A literal's text as code; a multi-line raw literal's text starts on the line after its quotes.</summary>
    private static Embedded Embed(string file, Literal l) => new(l.Text, Relative(file), l.Line + (l.Text.Contains('\n') ? 1 : 0));

    private static string Where(string file, string code, int index) => $"{Relative(file)}:{1 + code.AsSpan(0, index).Count('\n')}";
}
