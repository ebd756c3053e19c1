using System.Diagnostics;

namespace Jsmail.TestSupport;

public sealed record RunResult(int ExitCode, byte[] Stdout, byte[] Stderr, bool TimedOut)
{
    public string Out => System.Text.Encoding.UTF8.GetString(Stdout);
    public string Err => System.Text.Encoding.UTF8.GetString(Stderr);
}

/// <summary>
/// Runs a real process with bytes on stdin and a bounded wait. File
/// descriptors beyond 0-2 are set up with a shell: Run.Shell("exec prog 1&lt;env").
/// </summary>
public static class Run
{
    public static RunResult Process(string file, IEnumerable<string> args, byte[]? stdin = null,
        IDictionary<string, string?>? env = null, string? cwd = null, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null)
            foreach (var (k, v) in env)
                if (v == null) psi.Environment.Remove(k); else psi.Environment[k] = v;

        using var p = System.Diagnostics.Process.Start(psi)!;
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

    private static async Task<byte[]> ReadAllAsync(Stream s)
    {
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        return ms.ToArray();
    }
}
