using Jsmail.TestSupport;

namespace Jsmail.Peers.Tests;

/// <summary>
/// scripts/peers.list is complete: every program a test or a benchmark starts
/// and every module its Python code imports is named there, so the test
/// command installs it on a fresh machine. Processes start only through Run,
/// which refuses an outside program the list does not name (at run time, so
/// names computed in code are covered too); these tests read the sources for
/// the names written in them, shell scripts and Python code included.
/// </summary>
public class PeerListTests
{
    [Fact]
    public void Only_Run_starts_processes()
    {
        TestSources.OwnProcessStarts().Select(u => $"{u.Where}: {u.Name}").Should().BeEmpty(
            "tests and benchmarks start processes through {0} (Run.Process, Run.Shell, Run.Start), which checks the program against scripts/peers.list",
            TestSources.Starter);
    }

    [Fact]
    public void Every_outside_program_handed_to_Run_is_listed()
    {
        var uses = TestSources.ProgramsHandedToRun();
        uses.Select(u => u.Name).Should().Contain("/usr/bin/python3", "the scan must find Run's calls");
        var unlisted = Unlisted(uses);
        unlisted.Should().BeEmpty("an outside program a test starts must be in scripts/peers.list");
    }

    [Fact]
    public void Every_command_of_a_test_or_bench_shell_script_is_listed()
    {
        var scripts = TestSources.ShellScripts();
        var functions = scripts.SelectMany(s => ShellCommands.Functions(s.Text)).ToHashSet();
        var uses = scripts.SelectMany(s => ShellCommands.Of(s.Text, functions).Select(c => new Use(c.Name, s.At(c.Line)))).ToList();
        uses.Select(u => u.Name).Should().Contain("openssl", "the scan must find the shell scripts");
        var unlisted = Unlisted(uses);
        unlisted.Should().BeEmpty("a program a test's or a benchmark's shell script runs must be in scripts/peers.list");
    }

    [Fact]
    public void Every_module_python_code_imports_is_listed_or_standard()
    {
        var standard = StandardModules();
        var local = TestSources.LocalModules();
        var uses = TestSources.PythonCode()
            .SelectMany(c => PythonImports.Of(c.Text).Select(m => new Use(m.Name, c.At(m.Line))))
            .ToList();
        uses.Select(u => u.Name).Should().Contain("aiosmtpd", "the scan must find the Python code");
        var unlisted = Report(uses.Where(u => !standard.Contains(u.Name) && !local.Contains(u.Name) && !PeerList.NamesModule(u.Name)));
        unlisted.Should().BeEmpty("a module that is not in Python's standard library must be in scripts/peers.list as python3:MODULE");
    }

    [Fact]
    public void Run_refuses_an_outside_program_the_list_does_not_name()
    {
        // computed, not literal: the source scan above would count a literal as a use
        var name = string.Concat("jsmail-peers-test-", "unlisted");
        var start = () => Run.Process(name, []);
        start.Should().Throw<InvalidOperationException>().WithMessage("*scripts/peers.list*");
        var absolute = () => Run.Start("/usr/bin/" + name, []);
        absolute.Should().Throw<InvalidOperationException>().WithMessage("*scripts/peers.list*");
    }

    [Fact]
    public void Every_line_of_the_list_has_a_package_and_a_known_origin()
    {
        PeerList.All.Should().NotBeEmpty();
        PeerList.All.Where(p => p.Origin is not ("" or "base" or "sdk")).Should().BeEmpty();
        PeerList.All.Where(p => p.Module == null && p.Provides.Contains('/') && !p.Provides.StartsWith('/')).Should().BeEmpty(
            "a command is a name looked up on PATH or an absolute path");
        PeerList.All.GroupBy(p => p.Provides).Where(g => g.Count() > 1).Select(g => g.Key).Should().BeEmpty();
    }

    [Fact]
    public void The_readme_names_every_package_the_test_command_installs()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var start = readme.IndexOf("\n## Test\n", StringComparison.Ordinal);
        start.Should().BeGreaterThan(0, "README.md has a Test section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        PeerList.All.Where(p => p.Origin == "").Select(p => p.Package).Distinct()
            .Where(package => !section.Contains($"`{package}`", StringComparison.Ordinal))
            .Should().BeEmpty("README.md's Test section says which packages the test command installs");
    }

    /// <summary>"where: name" of each use of an unlisted outside program, one a line ("" when none).</summary>
    private static string Unlisted(IEnumerable<Use> uses) =>
        Report(uses.Where(u => PeerList.IsOutsideProgram(u.Name) && !IsJsmails(u.Name) && !PeerList.Names(u.Name)));

    private static string Report(IEnumerable<Use> uses) => string.Join('\n', uses.Select(u => $"{u.Where}: {u.Name}").Distinct());

    /// <summary>
    /// A program jsmail builds, named as a test home's bin has it: jsmail-x,
    /// its qmail-x link, or a project's own name (sendmail, maildirmake).
    /// </summary>
    private static bool IsJsmails(string name) =>
        !name.Contains('/') && (name.StartsWith("jsmail-", StringComparison.Ordinal) || name.StartsWith("qmail-", StringComparison.Ordinal)
            || Directory.EnumerateDirectories(Path.Combine(Repo.Root, "src"))
                .Any(d => Path.GetFileName(d).Equals("Jsmail." + name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The standard library's top-level modules, as /usr/bin/python3 knows them.</summary>
    private static HashSet<string> StandardModules()
    {
        var r = Run.Process("/usr/bin/python3", ["-c", "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))"]);
        r.ExitCode.Should().Be(0, r.Err);
        return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    }
}
