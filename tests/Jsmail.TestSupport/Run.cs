using System.Diagnostics;

namespace Jsmail.TestSupport;

public sealed record RunResult(int ExitCode, byte[] Stdout, byte[] Stderr, bool TimedOut)
{
    public string Out => System.Text.Encoding.UTF8.GetString(Stdout);
    public string Err => System.Text.Encoding.UTF8.GetString(Stderr);
}

/// <summary>Which of a started process's standard streams are pipes to the test (the others are the test's own).</summary>
[Flags]
public enum Redirect
{
    None = 0,
    Input = 1,
    Output = 2,
    Error = 4,
}

/// <summary>
/// The one way tests and benchmarks start processes (Jsmail.Peers.Tests checks
/// that there is no other): runs a real process with bytes on stdin and a
/// bounded wait, or starts one that runs beside the test. An outside program
/// must be named in scripts/peers.list (PeerList). File descriptors beyond 0-2
/// are set up with a shell: Run.Shell("exec prog 1&lt;env").
/// </summary>
public static class Run
{
    public static RunResult Process(string file, IEnumerable<string> args, byte[]? stdin = null,
        IDictionary<string, string?>? env = null, string? cwd = null, int timeoutMs = 60_000)
    {
        using var p = Start(file, args, env, cwd ?? Environment.CurrentDirectory, Redirect.Input | Redirect.Output | Redirect.Error);
        var outTask = ReadAllAsync(p.StandardOutput.BaseStream);
        var errTask = ReadAllAsync(p.StandardError.BaseStream);
        try
        {
            if (stdin != null) p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        catch (IOException) { /* the child may exit without reading: that is its answer */ }

        var exited = p.WaitForExit(timeoutMs);
        if (!exited)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
        }
        return new RunResult(exited ? p.ExitCode : -1, outTask.Result, errTask.Result, !exited);
    }

    /// <summary>bash -c script, with $1.. as args.</summary>
    public static RunResult Shell(string script, byte[]? stdin = null,
        IDictionary<string, string?>? env = null, string? cwd = null, int timeoutMs = 60_000,
        params string[] args) =>
        Process("/bin/bash", new[] { "-c", script, "bash" }.Concat(args), stdin, env, cwd, timeoutMs);

    /// <summary>
    /// Starts a process that runs beside the test (a server, a supervised
    /// tree); the caller waits for it or kills it. <paramref name="env"/>
    /// changes the test's environment: a null value removes the variable.
    /// </summary>
    public static System.Diagnostics.Process Start(string file, IEnumerable<string> args,
        IDictionary<string, string?>? env = null, string? cwd = null, Redirect redirect = Redirect.None)
    {
        PeerList.RequireListed(file);
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = redirect.HasFlag(Redirect.Input),
            RedirectStandardOutput = redirect.HasFlag(Redirect.Output),
            RedirectStandardError = redirect.HasFlag(Redirect.Error),
            UseShellExecute = false,
        };
        if (cwd != null) psi.WorkingDirectory = cwd;
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null)
            foreach (var (k, v) in env)
                if (v == null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return System.Diagnostics.Process.Start(psi)!;
    }

    private static async Task<byte[]> ReadAllAsync(Stream s)
    {
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        return ms.ToArray();
    }
}
