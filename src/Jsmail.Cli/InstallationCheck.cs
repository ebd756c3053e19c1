using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>
/// <c>jsmail check</c>, as <c>postfix check</c>: the owners and modes of the
/// queue and the programs (install.sh's, docs/install.md), the control files
/// (<see cref="ControlCheck"/>) and the cdb files against their sources.
/// Errors make the exit code 1; warnings do not.
/// </summary>
public sealed class InstallationCheck(string home, TextWriter output)
{
    public int Errors { get; private set; }
    public int Warnings { get; private set; }

    public void Error(string text) { Errors++; output.WriteLine("error: " + text); }
    public void Warning(string text) { Warnings++; output.WriteLine("warning: " + text); }

    /// <summary>The accounts of a privileged install; null in a single-user one (every file the home owner's, no setuid bit).</summary>
    private sealed record Accounts(uint Qmailq, uint Qmails, uint Qmailr, uint Qmail, uint Root);

    public int Run()
    {
        var privileged = QueueOwner.IsQmailq(home);
        Accounts? accounts = null;
        if (privileged)
        {
            accounts = new Accounts(Uid("qmailq"), Uid("qmails"), Uid("qmailr"), Libc.GetGroupId("qmail") ?? uint.MaxValue, 0);
        }
        Queue(accounts);
        Programs(accounts);
        new ControlCheck(Path.Combine(home, "control"), this).Run();
        Stale(Path.Combine(home, "users", "assign"), Path.Combine(home, "users", "cdb"), "run jsmail-newu (qmail-newu)");
        Stale(Path.Combine(home, "control", "morercpthosts"), Path.Combine(home, "control", "morercpthosts.cdb"), "run qmail-newmrh");
        output.WriteLine($"{Errors} error(s), {Warnings} warning(s)");
        return Errors > 0 ? 1 : 0;
    }

    private static uint Uid(string name) => Libc.GetPasswd(name)?.Uid ?? uint.MaxValue;

    private void Queue(Accounts? a)
    {
        var q = Path.Combine(home, "queue");
        Dir(q, a?.Qmailq, 0750, a);
        foreach (var d in new[] { "pid", "intd" }) Dir(Path.Combine(q, d), a?.Qmailq, 0700, a);
        Dir(Path.Combine(q, "todo"), a?.Qmailq, 0750, a);
        Dir(Path.Combine(q, "bounce"), a?.Qmails, 0700, a);
        Dir(Path.Combine(q, "lock"), a?.Qmailq, 0750, a);
        foreach (var (name, qmailq, mode) in new[] { ("mess", true, 0750), ("info", false, 0700), ("local", false, 0700), ("remote", false, 0700), ("ext", true, 0750), ("rparam", false, 0750) })
        {
            var owner = qmailq ? a?.Qmailq : a?.Qmails;
            Dir(Path.Combine(q, name), owner, mode, a);
            for (var s = 0; s < QueueLayout.Split; s++) Dir(Path.Combine(q, name, s.ToString()), owner, mode, a);
        }
        foreach (var d in new[] { HoldMark.Directory, "command" })
        {
            var path = Path.Combine(q, d);
            if (Libc.StatPath(path, out _) == 0) Dir(path, a?.Qmails, 0700, a);
            else Warning($"{Rel(path)} is missing: the jsmail command can hold messages or reach a running jsmail-send only once install.sh made it");
        }
        var mtaSts = Path.Combine(q, "mta-sts");
        if (Libc.StatPath(mtaSts, out _) == 0) Dir(mtaSts, a?.Qmailr, 0750, a);
        else Warning($"{Rel(mtaSts)} is missing: jsmail-remote cannot cache MTA-STS policies (it fetches them for every delivery) until install.sh made it");
        var tlsrpt = Path.Combine(q, "tlsrpt");
        if (Libc.StatPath(tlsrpt, out _) == 0) Dir(tlsrpt, a?.Qmailr, 0750, a);
        else Warning($"{Rel(tlsrpt)} is missing: jsmail-remote cannot record TLS sessions for jsmail-tlsrpt's reports until install.sh made it");
        File(Path.Combine(q, "lock", "sendmutex"), a?.Qmails, 0600, a);
        File(Path.Combine(q, "lock", "tcpto"), a?.Qmailr, 0644, a);
        if (Libc.StatPath(Path.Combine(q, "lock", "trigger"), out var t) != 0 || !t.IsFifo) Error("queue/lock/trigger is missing or not a named pipe");
        else File(Path.Combine(q, "lock", "trigger"), a?.Qmails, 0622, a);
    }

    private void Programs(Accounts? a)
    {
        var bin = Path.Combine(home, "bin");
        IEnumerable<string> programs;
        try { programs = Directory.EnumerateFiles(bin, "jsmail-*").Order().ToList(); }
        catch (IOException e) { Error($"unable to read bin/: {e.Message}"); return; }
        foreach (var path in programs)
        {
            var name = Path.GetFileName(path)["jsmail-".Length..];
            if (name.StartsWith('.') || name.EndsWith(".new")) continue;
            var mode = ProgramMode(name);
            if (a == null && mode >= 4000) mode -= 4000; // a single-user install sets no setuid bit
            File(path, name == "queue" ? a?.Qmailq : a?.Root, mode, a);
        }
        if (Libc.StatPath(Path.Combine(bin, "jsmail-queue"), out _) != 0) Error("bin/jsmail-queue is missing");
    }

    /// <summary>install.sh's modes, qmail's for the program of that name (interfaces §14.2), in octal digits as every mode here.</summary>
    public static int ProgramMode(string name) => name switch
    {
        "queue" => 4711,
        "lspawn" or "start" or "newu" or "newmrh" => 700,
        "getpw" or "local" or "remote" or "rspawn" or "clean" or "send" or "todo" or "pw2u" or "splogger" or "popup" => 711,
        _ => 755,
    };

    private void Dir(string path, uint? owner, int mode, Accounts? a)
    {
        if (Libc.StatPath(path, out var st) != 0 || !st.IsDirectory) { Error($"{Rel(path)}: missing directory"); return; }
        Attributes(path, st, owner, mode, a);
    }

    private void File(string path, uint? owner, int mode, Accounts? a)
    {
        if (Libc.StatPath(path, out var st) != 0) { Error($"{Rel(path)}: missing"); return; }
        Attributes(path, st, owner, mode, a);
    }

    private void Attributes(string path, Libc.Stat st, uint? owner, int mode, Accounts? a)
    {
        var actual = Convert.ToString(st.Mode & 0xFFF, 8).PadLeft(4, '0');
        var expected = mode.ToString().PadLeft(4, '0');
        if (actual != expected) Error($"{Rel(path)}: mode {actual}, expected {expected}");
        if (owner is { } o && st.Uid != o) Error($"{Rel(path)}: owner uid {st.Uid}, expected {o}");
        if (a != null && st.Gid != a.Qmail) Error($"{Rel(path)}: group gid {st.Gid}, expected qmail ({a.Qmail})");
    }

    /// <summary>A cdb older than its source (or missing beside it) answers with yesterday's data.</summary>
    private void Stale(string source, string cdb, string fix)
    {
        if (Libc.StatPath(source, out var s) != 0) return;
        if (Libc.StatPath(cdb, out var c) != 0) { Error($"{Rel(cdb)} is missing but {Rel(source)} exists: {fix}"); return; }
        if (c.MTimeSec < s.MTimeSec) Error($"{Rel(cdb)} is older than {Rel(source)}: {fix}");
    }

    public string Rel(string path) => Path.GetRelativePath(home, path);
}
