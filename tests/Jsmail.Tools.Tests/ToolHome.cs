using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Tools.Tests;

/// <summary>
/// A home made by the real install.sh, messages queued through the real
/// jsmail-queue, preprocessed by the real jsmail-start/-send/-todo/-clean with
/// the Send tests' protocol-speaking spawner (testspawn.py) as qmail-lspawn and
/// qmail-rspawn: local parts starting with "defer" are deferred, others delivered.
/// </summary>
public sealed class ToolHome : IDisposable
{
    public TestHome Home { get; }
    private Process? _start;
    private string LogPath => Path.Combine(Home.Path, "log");

    public ToolHome(bool privileged = false)
    {
        Home = TestHome.Install(privileged);
        Home.WriteControl("me", "me.example\n");
        Home.WriteControl("locals", "local.example\n");
    }

    public void UseTestSpawners()
    {
        var spawner = Path.Combine(AppContext.BaseDirectory, "testspawn.py");
        foreach (var name in new[] { "qmail-lspawn", "qmail-rspawn" })
        {
            File.Copy(spawner, Home.Bin(name), overwrite: true);
            File.SetUnixFileMode(Home.Bin(name), (UnixFileMode)0x1ED);
        }
        File.WriteAllText(Path.Combine(Home.Path, "delivered"), "");
        Directory.CreateDirectory(Path.Combine(Home.Path, "copies"));
    }

    /// <summary>Queues a message with bin/qmail-queue; returns its id (the mess file's inode).</summary>
    public ulong Queue(string sender, string message, params string[] recipients)
    {
        var before = Home.Entries("mess").ToHashSet();
        var env = Path.Combine(Home.Path, "env.tmp");
        File.WriteAllBytes(env, Encoding.Latin1.GetBytes("F" + sender + "\0" + string.Concat(recipients.Select(r => "T" + r + "\0")) + "\0"));
        var r = Run.Shell("cd \"$1\" && exec bin/qmail-queue 1<\"$2\"", Encoding.Latin1.GetBytes(message), args: [Home.Path, env]);
        r.ExitCode.Should().Be(0, r.Err);
        var added = Home.Entries("mess").Where(e => !before.Contains(e)).ToList();
        added.Should().HaveCount(1);
        return ulong.Parse(Path.GetFileName(added[0]));
    }

    public void Start()
    {
        _start = Run.Start("/bin/bash", ["-c", $"cd / && exec {Home.Bin("qmail-start")} >>{LogPath} 2>&1 </dev/null"],
            env: new Dictionary<string, string?> { ["PATH"] = Home.Path + "/bin:" + Environment.GetEnvironmentVariable("PATH") });
    }

    /// <summary>TERM to qmail-send, which finishes its deliveries and exits; waits for it.</summary>
    public void Stop()
    {
        if (_start == null) return;
        Jsmail.Common.Os.Libc.Kill(_start.Id, 15);
        if (!_start.WaitForExit(30_000)) { _start.Kill(true); _start.WaitForExit(); }
        _start = null;
    }

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath, Encoding.Latin1) : "";

    public void WaitForLog(string substring, int count)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 60_000 && CountLog(substring) < count) Thread.Sleep(50);
        CountLog(substring).Should().BeGreaterThanOrEqualTo(count, $"the log should have {count}× '{substring}':\n{Log}");
    }

    private int CountLog(string substring) => Log.Split('\n').Count(l => l.Contains(substring));

    /// <summary>Runs an installed program (by its qmail- link name) with optional environment, as an optional user.</summary>
    public RunResult Tool(string name, IDictionary<string, string?>? env = null, string? asUser = null)
    {
        var prefix = asUser == null ? "" : $"setpriv --reuid={asUser} --regid=$(id -g {asUser}) --init-groups ";
        return Run.Shell($"cd / && exec {prefix}\"$1\"", env: env, args: [Home.Bin(name)]);
    }

    public void Dispose()
    {
        try { Stop(); } catch (Exception) { }
        Home.Dispose();
    }
}
