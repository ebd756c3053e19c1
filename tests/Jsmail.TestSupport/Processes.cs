namespace Jsmail.TestSupport;

/// <summary>The processes that belong to a test: executable, working directory or arguments under one of its directories.</summary>
public static class Processes
{
    public sealed record Info(int Pid, string Exe, string Cmdline);

    public static List<Info> Under(params string[] roots)
    {
        var self = Environment.ProcessId;
        var found = new List<Info>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self) continue;
            string exe = Link(dir + "/exe"), cwd = Link(dir + "/cwd"), cmd;
            try { cmd = File.ReadAllText(dir + "/cmdline").Replace('\0', ' ').Trim(); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (cmd.Length == 0) continue; // a zombie or a kernel thread
            if (roots.Any(r => exe.StartsWith(r + "/") || cwd == r || cwd.StartsWith(r + "/") || cmd.Contains(r)))
                found.Add(new Info(pid, exe, cmd));
        }
        return found;
    }

    /// <summary>The jsmail programs running from <paramref name="bin"/> (by executable).</summary>
    public static List<Info> Programs(string bin) =>
        Under(bin).Where(p => p.Exe.StartsWith(bin + "/jsmail-")).ToList();

    public static void KillAll(params string[] roots)
    {
        foreach (var p in Under(roots)) Kill(p.Pid);
    }

    /// <summary>SIGKILL (what Process.Kill sends on Unix); a process already gone is no error.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            p.Kill();
        }
        catch (ArgumentException) { }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static string Link(string path)
    {
        try { return new FileInfo(path).LinkTarget ?? ""; }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
