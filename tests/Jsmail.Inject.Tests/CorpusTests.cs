using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Inject.Tests;

/// <summary>
/// The corpus in Corpus/: NNN-name.in is a message, NNN-name.args the extra
/// arguments ("arg X") and environment ("env K=V", "unset K"), NNN-name.out
/// the expected "qmail-inject -n" output and NNN-name.env the envelope the same
/// message gives in queue mode (masked as <see cref="InjectHome.Mask"/> does).
/// Both runs use the published program in an installed home.
/// </summary>
public sealed class CorpusTests(InjectHome home) : IClassFixture<InjectHome>
{
    private static string CorpusDir => Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(CorpusDir, "*.in").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Fact]
    public void The_corpus_has_at_least_sixty_messages() => Cases().Count.Should().BeGreaterThanOrEqualTo(60);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Printed_and_queued(string name)
    {
        var (args, env) = Arguments(name);
        var input = File.ReadAllBytes(Path.Combine(CorpusDir, name + ".in"));
        var expected = File.ReadAllBytes(Path.Combine(CorpusDir, name + ".out"));

        var printed = home.Run(input, new[] { "-n" }.Concat(args), env);
        printed.ExitCode.Should().Be(0, "stderr: {0}", printed.Err);
        printed.Stderr.Should().BeEmpty();
        Encoding.Latin1.GetString(InjectHome.Mask(printed.Stdout)).Should().Be(Encoding.Latin1.GetString(expected));

        var (queued, message, envelope, _) = home.Capture(input, args, env);
        queued.ExitCode.Should().Be(0, "stderr: {0}", queued.Err);
        message.Should().NotBeNull();
        var withoutReturnPath = expected.AsSpan(expected.AsSpan().IndexOf((byte)'\n') + 1).ToArray();
        Encoding.Latin1.GetString(InjectHome.Mask(message!)).Should().Be(Encoding.Latin1.GetString(withoutReturnPath),
            "the queued message is the printed one without its Return-Path line");
        InjectHome.EnvelopeText(InjectHome.Mask(envelope!)).Should()
            .Be(Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(CorpusDir, name + ".env"))));
    }

    private static (List<string> Args, Dictionary<string, string?> Env) Arguments(string name)
    {
        var args = new List<string>();
        var env = InjectHome.CleanEnvironment();
        var file = Path.Combine(CorpusDir, name + ".args");
        if (!File.Exists(file)) return (args, env);
        foreach (var line in File.ReadAllLines(file))
        {
            if (line.StartsWith("arg ", StringComparison.Ordinal)) args.Add(line[4..]);
            else if (line.StartsWith("env ", StringComparison.Ordinal))
            {
                var kv = line[4..].Split('=', 2);
                env[kv[0]] = kv[1].Replace("@CORPUS@", CorpusDir, StringComparison.Ordinal);
            }
            else if (line.StartsWith("unset ", StringComparison.Ordinal)) env[line[6..]] = null;
        }
        return (args, env);
    }
}
