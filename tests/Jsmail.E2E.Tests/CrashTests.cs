using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.E2E.Tests;

/// <summary>
/// kill -9 of random jsmail processes at random moments while messages flow in
/// through SMTP to a local and a remote recipient each, under supervise (which
/// restarts what it runs). Every message the server accepted (250 after DATA)
/// must be delivered at least once to both. The message count is
/// JSMAIL_E2E_CRASH_MESSAGES (default 1000).
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly LocalUsers _users = new();
    private readonly SmtpSink _sink = new();
    private SupervisedMta? _mta;

    private static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("JSMAIL_E2E_CRASH_MESSAGES"), out var n) && n > 0 ? n : 1000;

    [Fact]
    public async Task Every_accepted_message_is_delivered_despite_kill_9_of_any_jsmail_process()
    {
        var alice = _users.Add("e2ec", Repo.Program("jsmail-maildirmake"));
        _mta = new SupervisedMta(_sink.Port, [alice]);
        _mta.Start();
        var bin = Path.Combine(_mta.Home.Path, "bin");
        var run = Guid.NewGuid().ToString("N")[..8];
        var count = Count;
        var accepted = new ConcurrentDictionary<int, bool>();
        var kills = new ConcurrentBag<string>();
        using var sending = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var killer = Task.Run(() =>
        {
            var random = new Random();
            while (!sending.IsCancellationRequested)
            {
                Thread.Sleep(random.Next(100, 1000));
                var programs = Processes.Programs(bin);
                if (programs.Count == 0) continue;
                var victim = programs[random.Next(programs.Count)];
                if (Libc.Kill(victim.Pid, 9) == 0) kills.Add(Path.GetFileName(victim.Exe));
            }
        });

        // four clients, each message retried until the server takes it (bounded)
        var next = -1;
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var token = $"crash-{run}-{i}-end";
                var message = $"Subject: {token}\nMessage-ID: <{token}@crash.example>\n\n{token}\n";
                for (var attempt = 0; attempt < 100 && !accepted.ContainsKey(i); attempt++)
                {
                    if (SmtpSubmitter.TrySend(_mta.SmtpPort, "carol@example.org",
                            [$"{alice.Name}@{SupervisedMta.LocalDomain}", $"sink@{SupervisedMta.RemoteDomain}"], message))
                        accepted[i] = true;
                    else
                        Thread.Sleep(100);
                }
            }
        })).ToArray();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromMinutes(20)); // each message has at most 100 tries
        sending.Cancel();
        await killer.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{accepted.Count} of {count} accepted in {clock.Elapsed.TotalSeconds:F0} s; {kills.Count} kills: " +
            string.Join(", ", kills.GroupBy(k => k).Select(g => $"{g.Key} {g.Count()}")));
        accepted.Count.Should().BeGreaterThan(count * 9 / 10, "a killed program is restarted and the rest goes on");

        // deliveries deferred by a crash wait for their retry slot: ALRM, as an administrator would (svc -a)
        var pattern = new Regex($@"crash-{run}-(\d+)-end");
        HashSet<int> Seen(IEnumerable<string> messages) =>
            messages.SelectMany(m => pattern.Matches(m).Select(x => int.Parse(x.Groups[1].Value))).ToHashSet();
        bool AllDelivered(HashSet<int> seen) => accepted.Keys.All(seen.Contains);
        var deadline = DateTime.UtcNow.AddSeconds(300 + count / 2);
        while (DateTime.UtcNow < deadline && !(AllDelivered(Seen(alice.Messages())) && AllDelivered(Seen(_sink.Messages()))))
        {
            _mta.Svc(_mta.SendService, "-a");
            await Task.Delay(3000);
        }
        var local = Seen(alice.Messages());
        var remote = Seen(_sink.Messages());
        output.WriteLine($"delivered locally {local.Count}, remotely {remote.Count}, after {clock.Elapsed.TotalSeconds:F0} s");
        accepted.Keys.Where(i => !local.Contains(i)).Should().BeEmpty("every accepted message reaches the local Maildir");
        accepted.Keys.Where(i => !remote.Contains(i)).Should().BeEmpty("every accepted message reaches the remote sink");
        kills.Should().NotBeEmpty();
    }

    public void Dispose()
    {
        _mta?.Dispose();
        _sink.Dispose();
        _users.Dispose();
    }
}
