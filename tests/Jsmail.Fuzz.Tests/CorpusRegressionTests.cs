namespace Jsmail.Fuzz.Tests;

/// <summary>
/// The regression run of the fuzzing harnesses: each harness over every file of
/// fuzz/corpus/&lt;harness&gt;/ (the seeds, and crashes-fixed/: inputs that once
/// broke a parser), in-process, without instrumentation.
/// </summary>
public class CorpusRegressionTests
{
    private static readonly string Corpus = FindCorpus();

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var harness in Harness.All.Keys)
        {
            var dir = Path.Combine(Corpus, harness);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                data.Add(harness, Path.GetRelativePath(dir, file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Harness_holds_its_invariants_on_the_corpus(string harness, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(Corpus, harness, file));
        var run = () => Harness.All[harness](input);
        run.Should().NotThrow();
    }

    [Fact]
    public void Every_harness_has_a_corpus_and_every_corpus_a_harness()
    {
        var dirs = Directory.GetDirectories(Corpus).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        dirs.Should().Equal(Harness.All.Keys.Order(StringComparer.Ordinal));
        foreach (var harness in Harness.All.Keys)
            Directory.EnumerateFiles(Path.Combine(Corpus, harness)).Should().NotBeEmpty(harness);
    }

    public static TheoryData<string> Names() => new(Harness.All.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void A_harness_takes_empty_and_one_byte_input(string harness)
    {
        for (var b = 0; b < 256; b++)
        {
            var input = new[] { (byte)b };
            var run = () => Harness.All[harness](input);
            run.Should().NotThrow($"input byte {b}");
        }
        var empty = () => Harness.All[harness]([]);
        empty.Should().NotThrow();
    }

    [Fact]
    public void A_broken_invariant_is_reported()
    {
        var broken = () => Invariant.That(false, "a promise");
        broken.Should().Throw<InvariantException>().WithMessage("a promise");
        var chunks = Invariant.Chunks(100, 5).ToList();
        chunks.Sum().Should().Be(100);
        chunks.Should().OnlyContain(n => n > 0);
    }

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("fuzz/corpus above " + AppContext.BaseDirectory);
    }
}
