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

    public static IEnumerable<string> Of(string code)
    {
        foreach (Match m in Import().Matches(code))
            foreach (var part in m.Groups[1].Value.Split(','))
                yield return TopLevel(part.Trim().Split(' ', '\t')[0]);
        foreach (Match m in FromImport().Matches(code))
            yield return TopLevel(m.Groups[1].Value);
    }

    private static string TopLevel(string dotted) => dotted.Split('.')[0];
}
