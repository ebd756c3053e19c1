using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// jsmail-start in a privileged install (tests run as root), with the real
/// daemons: the process tree of interfaces §3.2 read from /proc.
/// </summary>
public class StartTests
{
    private sealed record Daemon(int Pid, string[] Argv, uint[] Uid, uint[] Gid, uint[] Groups);

    private static uint[] Ids(string status, string field) =>
        status.Split('\n').Single(l => l.StartsWith(field + ":")).Split([':', '\t', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Skip(1).Select(uint.Parse).ToArray();

    private static Daemon? Read(int pid)
    {
        try
        {
            var status = File.ReadAllText($"/proc/{pid}/status");
            var argv = File.ReadAllText($"/proc/{pid}/cmdline", Encoding.Latin1).TrimEnd('\0').Split('\0');
            return new Daemon(pid, argv, Ids(status, "Uid"), Ids(status, "Gid"), Ids(status, "Groups"));
        }
        catch (IOException) { return null; }
    }

    private static List<Daemon> Children(int parent)
    {
        var list = new List<Daemon>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            // pid (comm) state ppid ...: comm may hold spaces, the last ')' ends it
            var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            if (ppid == parent && Read(pid) is { } d) list.Add(d);
        }
        return list;
    }

    private static uint Uid(string user) => uint.Parse(Run.Shell("id -u \"$1\"", args: [user]).Out.Trim());
    private static uint Gid(string group) => uint.Parse(Run.Shell("getent group \"$1\" | cut -d: -f3", args: [group]).Out.Trim());

    /// <summary>Waits until jsmail-send has these children, each exec'd into its daemon (argv[0] its qmail name).</summary>
    private static List<Daemon> Daemons(SendHarness h, params string[] names)
    {
        List<Daemon> found = [];
        SendHarness.WaitUntil(() =>
        {
            found = Children(h.SendPid);
            return found.Select(d => d.Argv[0]).Order().SequenceEqual(names.Order());
        }).Should().BeTrue($"jsmail-send's children should be {string.Join(", ", names)}, not {string.Join(", ", found.Select(d => d.Argv[0]))}");
        return found;
    }

    [Fact] // §16 item 53, §3.2
    public void Without_arguments_lspawn_gets_Mailbox_the_log_is_stdout_and_each_daemon_runs_as_its_account()
    {
        using var h = new SendHarness(privileged: true, testSpawners: false);
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20"); // jsmail-send's log is jsmail-start's stdout
        var qmail = Gid("qmail");
        var daemons = Daemons(h, "qmail-lspawn", "qmail-rspawn", "qmail-clean", "qmail-clean", "qmail-todo");

        var send = Read(h.SendPid)!;
        send.Argv.Should().Equal("qmail-send");
        send.Uid.Should().AllBeEquivalentTo(Uid("qmails"));
        (send.Gid.Distinct().Single(), send.Groups.Single()).Should().Be((qmail, qmail));

        var lspawn = daemons.Single(d => d.Argv[0] == "qmail-lspawn");
        lspawn.Argv.Should().Equal("qmail-lspawn", "./Mailbox");
        var expected = new Dictionary<string, uint>
        {
            ["qmail-lspawn"] = 0, ["qmail-rspawn"] = Uid("qmailr"), ["qmail-clean"] = Uid("qmailq"), ["qmail-todo"] = Uid("qmails"),
        };
        foreach (var d in daemons)
        {
            d.Uid.Should().AllBeEquivalentTo(expected[d.Argv[0]], d.Argv[0] + " runs as its account");
            d.Gid.Should().AllBeEquivalentTo(qmail, d.Argv[0]);
            d.Groups.Should().Equal([qmail], d.Argv[0] + " has the single group qmail");
        }

        // with a logger: it runs as qmaill in the group nofiles and gets the log on its stdin
        h.Stop();
        var before = h.CountLog("status: local 0/10 remote 0/20");
        h.Start("./Maildir/", "/bin/cat");
        h.WaitForLog("status: local 0/10 remote 0/20", before + 1);
        var logger = Daemons(h, "/bin/cat", "qmail-lspawn", "qmail-rspawn", "qmail-clean", "qmail-clean", "qmail-todo")
            .Single(d => d.Argv[0] == "/bin/cat");
        logger.Uid.Should().AllBeEquivalentTo(Uid("qmaill"));
        logger.Gid.Should().AllBeEquivalentTo(Gid("nofiles"));
        logger.Groups.Should().Equal(Gid("nofiles"));
        Children(h.SendPid).Single(d => d.Argv[0] == "qmail-lspawn").Argv.Should().Equal("qmail-lspawn", "./Maildir/");
    }
}
