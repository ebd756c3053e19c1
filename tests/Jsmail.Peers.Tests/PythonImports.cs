using System.Text.RegularExpressions;

namespace Jsmail.Peers.Tests;

/// <summary>
/// The top-level modules Python code imports ("import a.b, c as d", "from e.f
/// import g"), at the start of a line, after ; or as the start of a -c program.
/// </summary>
public static partial class PythonImports
{
    [GeneratedRegex(@"(?:^|\n|;|-c[ \t]+['""])[ \t]*import[ \t]+([A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?)*)")]
    private static partial Regex Import();

    [GeneratedRegex(@"(?:^|\n|;|-c[ \t]+['""])[ \t]*from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b")]
    private static partial Regex FromImport();

    /// <summary>The modules, each with the line (from 0) of its import.</summary>
    public static IEnumerable<(string Name, int Line)> Of(string code)
    {
        foreach (Match m in Import().Matches(code))
            foreach (var part in m.Groups[1].Value.Split(','))
                yield return (TopLevel(part.Trim().Split(' ', '\t')[0]), LineOf(code, m.Groups[1].Index));
        foreach (Match m in FromImport().Matches(code))
            yield return (TopLevel(m.Groups[1].Value), LineOf(code, m.Groups[1].Index));
    }

    private static int LineOf(string code, int index) => code.AsSpan(0, index).Count('\n');

    private static string TopLevel(string dotted) => dotted.Split('.')[0];
}
