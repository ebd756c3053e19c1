using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>
/// The drop-in swap: a queue filled while nothing runs, the programs replaced
/// with install.sh --binaries-only, then the MTA started: every message goes out.
/// </summary>
public sealed class SwapTests : IDisposable
{
    private readonly LocalUsers _users = new();
    private readonly SmtpSink _sink = new();
    private SupervisedMta? _mta;

    [Fact]
    public void Messages_queued_before_a_binaries_only_reinstall_are_all_delivered_after_it()
    {
        var alice = _users.Add("e2es", Repo.Program("jsmail-maildirmake"));
        _mta = new SupervisedMta(_sink.Port, [alice]);
        var home = _mta.Home;
        const int count = 25;
        var tokens = Enumerable.Range(0, count).Select(i => $"swap-{i}-{Guid.NewGuid():N}").ToList();
        var envelope = _mta.Dir["envelope"];
        File.WriteAllBytes(envelope, Encoding.ASCII.GetBytes(
            $"Fcarol@example.org\0T{alice.Name}@{SupervisedMta.LocalDomain}\0Tsink@{SupervisedMta.RemoteDomain}\0\0"));
        foreach (var t in tokens)
        {
            var r = Run.Shell("cd \"$1\" && exec bin/qmail-queue 1<\"$2\"", Encoding.ASCII.GetBytes($"Subject: {t}\n\n{t}\n"),
                args: [home.Path, envelope]);
            r.ExitCode.Should().Be(0, r.Err);
        }
        home.Entries("todo").Should().HaveCount(count);
        var controls = Snapshot(Path.Combine(home.Path, "control"));
        var users = Snapshot(Path.Combine(home.Path, "users"));

        var reinstall = Run.Process(Repo.Script("install.sh"),
            ["--binaries-only", "--prefix", home.Path, "--prebuilt", Repo.PublishedDir], timeoutMs: 120_000);
        reinstall.ExitCode.Should().Be(0, reinstall.Err);
        home.Entries("todo").Should().HaveCount(count, "the queue is not touched");
        Snapshot(Path.Combine(home.Path, "control")).Should().Equal(controls);
        Snapshot(Path.Combine(home.Path, "users")).Should().Equal(users);

        _mta.Start();
        Wait.Until(() => tokens.All(t => alice.Messages().Any(m => m.Contains(t))), 180).Should().BeTrue(_mta.Log);
        Wait.Until(() => tokens.All(t => _sink.Messages().Any(m => m.Contains(t))), 180).Should().BeTrue(_mta.Log);
        Wait.Until(() => home.Entries("info").Count == 0 && home.Entries("todo").Count == 0, 60)
            .Should().BeTrue("every message is finished and removed from the queue");
    }

    private static List<string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir).OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Path.GetFileName(f) + "=" + Convert.ToHexString(File.ReadAllBytes(f))).ToList();

    public void Dispose()
    {
        _mta?.Dispose();
        _sink.Dispose();
        _users.Dispose();
    }
}
