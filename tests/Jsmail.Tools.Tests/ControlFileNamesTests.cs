using System.Text.RegularExpressions;
using Jsmail.Cli;
using Jsmail.Showctl;
using Jsmail.TestSupport;

namespace Jsmail.Tools.Tests;

/// <summary>
/// Every control file a program reads is one that `jsmail check` knows (else
/// it warns "unknown control file" about a valid setting) and that
/// jsmail-showctl describes (else it says "I have no idea what this file
/// does"). The names are taken from the sources: the ControlReader calls with
/// a literal name, and the constants (…File) that name a control file.
/// </summary>
public partial class ControlFileNamesTests
{
    [GeneratedRegex("""\.Read[A-Za-z]*\("([a-z0-9.]+)"|\b[A-Za-z]*File\s*=\s*"([a-z0-9.]+)";""")]
    private static partial Regex ControlName();

    /// <summary>Files whose content must never be printed, which jsmail-showctl leaves alone as qmail-showctl does.</summary>
    private static readonly string[] NotShown = ["servercert.pem"];

    private static SortedSet<string> NamesReadBySources()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") ||
                file.Contains($"{Path.DirectorySeparatorChar}Jsmail.Showctl{Path.DirectorySeparatorChar}")) continue;
            foreach (Match m in ControlName().Matches(File.ReadAllText(file)))
                names.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
        }
        return names;
    }

    [Fact]
    public void The_scan_finds_the_control_files_of_several_programs()
    {
        NamesReadBySources().Should().Contain(["me", "rcpthosts", "remotesessions", "plugintimeout", "timeoutremoteprocessor", "queuedcommitwait"],
            "a scan that finds nothing would pass the tests below without checking anything");
    }

    [Fact]
    public void Jsmail_check_knows_every_control_file_a_program_reads()
    {
        NamesReadBySources().Where(n => !ControlCheck.Known(n)).Should().BeEmpty();
    }

    [Fact]
    public void Jsmail_showctl_describes_every_control_file_a_program_reads()
    {
        var described = ShowctlReport.QmailFiles.Concat(ShowctlReport.JsmailFiles).ToHashSet();
        NamesReadBySources().Except(NotShown).Where(n => !described.Contains(n)).Should().BeEmpty();
    }
}
