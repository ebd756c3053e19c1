using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

/// <summary>
/// kill -9 at random moments: the queue never holds a todo entry without its
/// mess and intd, and leftovers are only what qmail's cleanups remove.
/// </summary>
public class CrashTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-crash");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    [Fact]
    public void Kill_9_at_random_points_never_leaves_a_broken_commit()
    {
        const int runs = 300;
        var small = Encoding.ASCII.GetBytes("Subject: small\n\n" + new string('x', 2000) + "\n");
        var large = new byte[3 << 20];
        Array.Fill(large, (byte)'y');
        File.WriteAllBytes(_dir["small"], small);
        File.WriteAllBytes(_dir["large"], large);
        File.WriteAllBytes(_dir["env"], Encoding.ASCII.GetBytes("Fa@x\0Tb@y\0Tc@z\0\0X1\0MSIZE=9\0\0"));

        var rng = new Random(20261128);
        int killed = 0, finished = 0;
        var sizes = new Dictionary<string, long>();
        for (var i = 0; i < runs; i++)
        {
            var msg = i % 2 == 0 ? "small" : "large";
            using var p = TestSupport.Run.Start("/bin/bash", ["-c", "exec \"$0\" <\"$1\" 1<\"$2\"", _home.Bin("jsmail-queue"), _dir[msg], _dir["env"]]);
            var delay = Stopwatch.GetTimestamp() + (long)(rng.NextDouble() * (msg == "small" ? 12 : 40) * Stopwatch.Frequency / 1000);
            while (Stopwatch.GetTimestamp() < delay && !p.HasExited) Thread.SpinWait(50);
            if (!p.HasExited)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
            }
            p.WaitForExit(30_000).Should().BeTrue();
            if (p.ExitCode == 0) finished++; else killed++;
            foreach (var todo in _home.Entries("todo").Where(t => !sizes.ContainsKey(t)))
                sizes[todo] = msg == "small" ? small.Length : large.Length;
        }

        killed.Should().BeGreaterThan(runs / 10, "the test must actually interrupt jsmail-queue");
        finished.Should().BeGreaterThan(0);

        var todos = _home.Entries("todo");
        foreach (var t in todos)
        {
            var id = ulong.Parse(t);
            File.Exists(_home.Queue($"intd/{id}")).Should().BeTrue($"todo/{id} needs its intd");
            var mess = _home.Queue($"mess/{id % 23}/{id}");
            File.Exists(mess).Should().BeTrue($"todo/{id} needs its mess");
            Encoding.Latin1.GetString(_home.ReadQueueFile($"todo/{id}")).Should().MatchRegex("^u\\d+\0p\\d+\0Fa@x\0Tb@y\0Tc@z\0$");
            var text = File.ReadAllBytes(mess);
            var firstLine = Array.IndexOf(text, (byte)'\n') + 1;
            (text.Length - firstLine).Should().Be((int)sizes[t], "a committed message is complete");
            File.Exists(_home.Queue($"ext/{id % 23}/{id}")).Should().BeTrue("a committed extension is on disk");
        }

        // Leftovers of interrupted runs: pid files, and mess (with intd, ext) that has no todo.
        foreach (var intd in _home.Entries("intd"))
            File.Exists(_home.Queue($"mess/{ulong.Parse(intd) % 23}/{intd}")).Should().BeTrue("intd without mess cannot happen");
        foreach (var ext in _home.Entries("ext"))
            File.Exists(_home.Queue("mess/" + ext)).Should().BeTrue("ext without mess cannot happen");
        foreach (var mess in _home.Entries("mess"))
        {
            Jsmail.Common.Os.Libc.StatPath(_home.Queue("mess/" + mess), out var st);
            st.Ino.ToString().Should().Be(Path.GetFileName(mess), "a mess file's name is its inode");
        }
        foreach (var pid in _home.Entries("pid"))
            pid.Should().MatchRegex("^\\d+\\.\\d+\\.[1-9]$");
        _home.Entries("todo").Count.Should().BeGreaterThanOrEqualTo(finished);
    }
}
