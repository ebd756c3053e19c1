using Jsmail.TestSupport;

namespace Jsmail.Install.Tests;

/// <summary>One entry of an installed tree as find(1) sees it.</summary>
public sealed record Entry(string Owner, string Group, string Mode, char Type, long Size, string Link, string MTime)
{
    /// <summary>What the spec fixes: owner, group, mode, type and, for a symlink, its target.</summary>
    public string Attributes => Type == 'l'
        ? $"{Owner}:{Group} link -> {Link}"
        : $"{Owner}:{Group} {Mode} {Type}";
}

public static class Tree
{
    /// <summary>Every entry under root (root itself is ""), keyed by relative path.</summary>
    public static SortedDictionary<string, Entry> Read(string root)
    {
        var r = Run.Process("find", [root, "-printf", "%P\t%u\t%g\t%m\t%y\t%s\t%l\t%T@\n"], timeoutMs: 30_000);
        r.ExitCode.Should().Be(0, "find {0} must work: {1}", root, r.Err);
        var tree = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var line in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            var mode = f[3].PadLeft(4, '0');
            tree[f[0]] = new Entry(f[1], f[2], mode, f[4][0], long.Parse(f[5]), f[6], f[7]);
        }
        return tree;
    }

    /// <summary>Fails with every difference listed, one a line.</summary>
    public static void Same(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, Entry> actual)
    {
        var diff = Diff(expected, actual);
        if (diff.Count > 0)
            throw new Xunit.Sdk.XunitException($"the tree differs from interfaces §14.2 in {diff.Count} place(s):\n  " +
                string.Join("\n  ", diff));
    }

    /// <summary>Differences between what was expected (attributes) and what is there, one line each.</summary>
    public static List<string> Diff(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, Entry> actual)
    {
        var diff = new List<string>();
        foreach (var (path, attrs) in expected)
        {
            if (!actual.TryGetValue(path, out var e)) diff.Add($"missing: /{path} ({attrs})");
            else if (e.Attributes != attrs) diff.Add($"/{path}: expected {attrs}, found {e.Attributes}");
        }
        foreach (var path in actual.Keys)
            if (!expected.ContainsKey(path)) diff.Add($"unexpected: /{path} ({actual[path].Attributes})");
        return diff;
    }
}

/// <summary>
/// The tree of interfaces §14.2 plus jsmail's queue/ext and queue/rparam, restated here
/// independently of install.sh so that the two can disagree.
/// </summary>
public static class Expected
{
    public const int Split = 23;
    private const int SetUid = 0x800; // octal 04000

    public static readonly string[] ControlFiles = ["me", "defaultdomain", "plusdomain", "locals", "rcpthosts"];

    /// <summary>The mode of qmail's binary of that name (the part after jsmail-).</summary>
    public static string BinaryMode(string name) => name switch
    {
        "queue" => "4711",
        "lspawn" or "start" or "newu" or "newmrh" => "0700",
        "getpw" or "local" or "remote" or "rspawn" or "clean" or "send" or "todo" or "pw2u"
            or "splogger" or "popup" => "0711",
        _ => "0755",
    };

    /// <summary>The name qmail installs that program under: qmail-NAME, or NAME for its unprefixed tools.</summary>
    public static string QmailName(string name) => name switch
    {
        "sendmail" or "maildirmake" or "maildir2mbox" or "maildirwatch" or "preline" or "forward" or "condredirect"
            or "bouncesaying" or "except" or "predate" or "datemail" or "mailsubj" or "tcp-env"
            or "qreceipt" or "qbiff" or "splogger" => name,
        "cli" => "jsmail", // the operator's command
        _ => "qmail-" + name,
    };

    public static IEnumerable<string> Programs(string publishedDir) =>
        Directory.GetFiles(publishedDir, "jsmail-*")
            .Select(Path.GetFileName)
            .Where(n => !n!.EndsWith(".dbg", StringComparison.Ordinal))
            .Select(n => n!["jsmail-".Length..])
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Privileged: owners of §14.2. Single-user (<paramref name="user"/> set):
    /// everything owned by that user and group, and no setuid bit.
    /// </summary>
    public static SortedDictionary<string, string> Home(IEnumerable<string> programs,
        (string User, string Group)? user = null, bool controls = true, bool bins = true)
    {
        var t = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(string path, string owner, string mode, char type, string group = "qmail")
        {
            if (user is { } u)
            {
                (owner, group) = (u.User, u.Group);
                mode = Convert.ToString(Convert.ToInt32(mode, 8) & ~SetUid, 8).PadLeft(4, '0');
            }
            t[path] = $"{owner}:{group} {mode} {type}";
        }
        void Link(string path, string target) =>
            t[path] = user is { } u ? $"{u.User}:{u.Group} link -> {target}" : $"root:qmail link -> {target}";

        Add("", "root", "0755", 'd');
        Add("alias", "alias", "2755", 'd');
        foreach (var d in new[] { "bin", "boot", "control", "users" }) Add(d, "root", "0755", 'd');
        Add("queue", "qmailq", "0750", 'd');
        Add("queue/pid", "qmailq", "0700", 'd');
        Add("queue/intd", "qmailq", "0700", 'd');
        Add("queue/todo", "qmailq", "0750", 'd');
        Add("queue/bounce", "qmails", "0700", 'd');
        foreach (var (d, owner, mode) in new[]
                 {
                     ("mess", "qmailq", "0750"), ("info", "qmails", "0700"), ("local", "qmails", "0700"),
                     ("remote", "qmails", "0700"), ("ext", "qmailq", "0750"),
                     ("rparam", "qmails", "0750"),
                 })
        {
            Add($"queue/{d}", owner, mode, 'd');
            for (var i = 0; i < Split; i++) Add($"queue/{d}/{i}", owner, mode, 'd');
        }
        Add("queue/lock", "qmailq", "0750", 'd');
        Add("queue/hold", "qmails", "0700", 'd'); // the jsmail command's hold marks (docs/jsmail.md)
        Add("queue/command", "qmails", "0700", 'd'); // jsmail-send's command socket
        Add("queue/mta-sts", "qmailr", "0750", 'd'); // jsmail-remote's MTA-STS policy cache
        Add("queue/tlsrpt", "qmailr", "0750", 'd'); // the TLS sessions jsmail-tlsrpt reports
        Add("queue/lock/tcpto", "qmailr", "0644", 'f');
        Add("queue/lock/sendmutex", "qmails", "0600", 'f');
        Add("queue/lock/trigger", "qmails", "0622", 'p');
        Add("queued", "qmailq", "0750", 'd', "nofiles"); // jsmail-queued's socket directory
        if (controls)
            foreach (var c in ControlFiles) Add($"control/{c}", "root", "0644", 'f');
        if (bins)
            foreach (var p in programs)
            {
                Add($"bin/jsmail-{p}", p == "queue" ? "qmailq" : "root", BinaryMode(p), 'f');
                Link($"bin/{QmailName(p)}", $"jsmail-{p}");
            }
        return t;
    }
}
