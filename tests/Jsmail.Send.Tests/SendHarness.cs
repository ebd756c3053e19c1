using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// A test home run by the real jsmail-start, whose qmail-lspawn and
/// qmail-rspawn are the protocol-speaking test spawner (testspawn.py) unless
/// the real spawners are asked for; the log is jsmail-start's stdout, in a
/// file. Every wait is bounded; Dispose stops (or kills) what it started.
/// </summary>
public sealed class SendHarness : IDisposable
{
    public TestHome Home { get; }
    private Process? _start;

    public string LogPath => System.IO.Path.Combine(Home.Path, "log");
    public string DeliveredPath => System.IO.Path.Combine(Home.Path, "delivered");

    /// <param name="testSpawners">replace qmail-lspawn and qmail-rspawn by testspawn.py</param>
    /// <param name="keepCopies">let the test spawner keep a copy of every delivered message (see Copies)</param>
    public SendHarness(bool privileged = false, string locals = "local.example\n", bool testSpawners = true, bool keepCopies = true)
    {
        Home = TestHome.Install(privileged);
        if (testSpawners)
            foreach (var name in new[] { "qmail-lspawn", "qmail-rspawn" }) Replace(name, "testspawn.py");
        Home.WriteControl("me", "me.example\n");
        Home.WriteControl("locals", locals);
        File.WriteAllText(DeliveredPath, "");
        File.SetUnixFileMode(DeliveredPath, (UnixFileMode)0x1B6); // the remote spawner may run as qmailr
        if (keepCopies)
        {
            Directory.CreateDirectory(System.IO.Path.Combine(Home.Path, "copies"));
            File.SetUnixFileMode(System.IO.Path.Combine(Home.Path, "copies"), (UnixFileMode)0x1FF);
        }
    }

    /// <summary>Puts a test script of this project in place of a program of the home's bin/.</summary>
    public void Replace(string program, string script)
    {
        File.Copy(System.IO.Path.Combine(AppContext.BaseDirectory, script), Home.Bin(program), overwrite: true);
        File.SetUnixFileMode(Home.Bin(program), (UnixFileMode)0x1ED);
    }

    /// <summary>Variables added to jsmail-start's environment by <see cref="Start"/>.</summary>
    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>
    /// A program and its arguments that <see cref="Start"/> runs jsmail-start
    /// under (a tracer such as strace -f); it must exit once jsmail-start's tree has.
    /// </summary>
    public string[] Tracer { get; set; } = [];

    public void Start(params string[] args)
    {
        var quoted = Quote(args);
        var env = new Dictionary<string, string?> { ["PATH"] = Home.Path + "/bin:" + System.Environment.GetEnvironmentVariable("PATH") };
        foreach (var (k, v) in Environment) env[k] = v;
        _start = Run.Start("/bin/bash", ["-c", $"cd / && exec {Quote(Tracer)} {Home.Bin("qmail-start")} {quoted} >>{LogPath} 2>&1 </dev/null"], env);
    }

    private static string Quote(string[] words) => string.Join(' ', words.Select(a => "'" + a.Replace("'", "'\\''") + "'"));

    /// <summary>The pid of qmail-send (jsmail-start execs into it; under a Tracer, the tracer's child).</summary>
    public int SendPid => Tracer.Length == 0 ? _start!.Id : TracedChild(_start!.Id);

    private static int TracedChild(int tracer)
    {
        var children = $"/proc/{tracer}/task/{tracer}/children";
        var pid = 0;
        WaitUntil(() => int.TryParse(File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(), out pid), 10_000)
            .Should().BeTrue("the tracer should have started jsmail-start");
        return pid;
    }

    /// <summary>TERM to qmail-send; waits for it to exit.</summary>
    public void Stop()
    {
        if (_start == null) return;
        Libc_Kill(SendPid, 15);
        if (!_start.WaitForExit(30_000)) { _start.Kill(true); _start.WaitForExit(); }
        _start = null;
    }

    public void Kill9()
    {
        if (_start == null) return;
        Libc_Kill(SendPid, 9);
        _start.WaitForExit(30_000);
        _start = null;
    }

    /// <summary>Appends a line to the log between two runs of jsmail-send (nothing else writes it then).</summary>
    public void MarkLog(string line) => File.AppendAllText(LogPath, line + "\n");

    private static void Libc_Kill(int pid, int sig) => Jsmail.Common.Os.Libc.Kill(pid, sig);

    /// <summary>Queues a message with jsmail-queue; the envelope may carry an extension block.</summary>
    public void Queue(byte[] envelope, string message = "Subject: test\n\nbody\n")
    {
        var env = System.IO.Path.Combine(Home.Path, "env.tmp");
        File.WriteAllBytes(env, envelope);
        var r = Run.Shell("cd \"$1\" && exec bin/qmail-queue 1<\"$2\"", Encoding.ASCII.GetBytes(message), args: [Home.Path, env]);
        r.ExitCode.Should().Be(0, r.Err);
    }

    public static byte[] Envelope(string sender, params string[] recipients) =>
        Encoding.Latin1.GetBytes("F" + sender + "\0" + string.Concat(recipients.Select(r => "T" + r + "\0")) + "\0");

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath, Encoding.Latin1) : "";
    public string[] LogLines => Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] Delivered => File.ReadAllLines(DeliveredPath);

    public static bool WaitUntil(Func<bool> condition, int timeoutMs = 30_000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            try { if (condition()) return true; }
            catch (IOException) { }
            Thread.Sleep(50);
        }
        return condition();
    }

    public void WaitForLog(string substring, int count = 1, int timeoutMs = 30_000) =>
        WaitUntil(() => CountLog(substring) >= count, timeoutMs).Should().BeTrue($"the log should have {count}× '{substring}':\n{Log}");

    /// <summary>
    /// Asserts the queue directories empty. "end msg" is logged before info/ is unlinked and
    /// jsmail-clean removes mess/ (the order of qmail-send's messdone), so the queue empties a
    /// moment after the log says so: wait for it, bounded.
    /// </summary>
    public void ShouldEmpty(params string[] dirs)
    {
        WaitUntil(() => dirs.All(d => Home.Entries(d).Count == 0), 30_000);
        foreach (var dir in dirs) Home.Entries(dir).Should().BeEmpty(dir);
    }

    public int CountLog(string substring) => LogLines.Count(l => l.Contains(substring));

    /// <summary>The copies the test spawner kept of delivered messages: (sender, recipient, message).</summary>
    public List<(string Sender, string Recipient, string Message)> Copies() =>
        Directory.GetFiles(System.IO.Path.Combine(Home.Path, "copies")).Where(f => !System.IO.Path.GetFileName(f).StartsWith('.'))
            .OrderBy(f => f).Select(f =>
        {
            var t = File.ReadAllText(f, Encoding.Latin1);
            var a = t.IndexOf('\n');
            var b = t.IndexOf('\n', a + 1);
            return (t[..a], t[(a + 1)..b], t[(b + 1)..]);
        }).ToList();

    public void Dispose()
    {
        try { Stop(); } catch (Exception) { }
        Home.Dispose();
    }
}
