using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>An installed home with qmail's usual controls, and a way to talk to its jsmail-smtpd over a pipe.</summary>
public sealed class SmtpdHome : IDisposable
{
    // One real install.sh run; every test home is a copy of it (cp -a keeps the links and modes).
    private static readonly Lazy<TestHome> Template = new(() => TestHome.Install());

    private readonly TempDir _dir = new("jsmail-smtpd");

    public CopiedHome Home { get; }

    public SmtpdHome() : this("example.com\n.example.com\n") { }

    public SmtpdHome(string? rcpthosts)
    {
        var r = Run.Process("cp", ["-a", Template.Value.Path, _dir["home"]]);
        if (r.ExitCode != 0) throw new InvalidOperationException("cp: " + r.Err);
        Home = new CopiedHome(_dir["home"]);
        Home.WriteControl("me", "mx.example\n");
        if (rcpthosts != null) Home.WriteControl("rcpthosts", rcpthosts);
        else File.Delete(Home.Control("rcpthosts"));
    }

    public static Dictionary<string, string?> BaseEnvironment(bool compat) => new()
    {
        ["TCPREMOTEIP"] = "127.0.0.1", ["TCPLOCALHOST"] = "mx.example", ["TCPLOCALIP"] = "127.0.0.1",
        ["TCPREMOTEHOST"] = null, ["TCPREMOTEINFO"] = null, ["RELAYCLIENT"] = null, ["DATABYTES"] = null,
        ["QMAILQUEUE"] = null, ["JSMAIL_COMPAT"] = compat ? "qmail" : null, ["SMTPCHECK"] = null,
        ["SUBMISSION"] = null,
    };

    /// <summary>Sends the whole conversation at once (a pipelining client) to the driver and returns what came back.</summary>
    public RunResult Talk(SmtpdDriver driver, string conversation, bool compat = false, IDictionary<string, string?>? env = null,
        IEnumerable<string>? args = null) =>
        Talk(driver, Encoding.Latin1.GetBytes(conversation), compat, env, args);

    /// <param name="env">tcpserver's variables and what tcprules sets, over <see cref="BaseEnvironment"/></param>
    /// <param name="args">jsmail-smtpd's arguments (AUTH's checkpassword)</param>
    public RunResult Talk(SmtpdDriver driver, byte[] conversation, bool compat = false, IDictionary<string, string?>? env = null,
        IEnumerable<string>? args = null)
    {
        var e = BaseEnvironment(compat);
        if (env != null) foreach (var (k, v) in env) e[k] = v;
        return driver switch
        {
            SmtpdDriver.PerConnection => Run.Process(Home.Bin("qmail-smtpd"), args ?? [], conversation, e, timeoutMs: 30_000),
            SmtpdDriver.Server => ServerModeServer.TalkOnce(Home.Path, conversation, e, args),
            _ => throw new ArgumentOutOfRangeException(nameof(driver), driver, "no such driver"),
        };
    }

    /// <summary>
    /// A checkpassword program (interfaces §12) as a shell script: it keeps what
    /// came on fd 3 in <paramref name="seen"/>, accepts alice with "open sesame"
    /// by running its subprogram, and refuses everyone else with exit 1.
    /// </summary>
    public static string WriteCheckpassword(string path, string seen)
    {
        File.WriteAllText(path, $$"""
            #!/bin/sh
            cat <&3 > '{{seen}}' || exit 2
            user=$(tr '\0' '\n' < '{{seen}}' | sed -n 1p)
            pass=$(tr '\0' '\n' < '{{seen}}' | sed -n 2p)
            [ "$user" = alice ] && [ "$pass" = 'open sesame' ] || exit 1
            exec "$@"

            """);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    /// <summary>A self-signed certificate and its key in one PEM file, made by openssl req.</summary>
    public static void WriteCertificate(string pemPath, string scratch)
    {
        var r = Run.Process("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx.example",
            "-keyout", scratch + ".key", "-out", scratch + ".crt"], timeoutMs: 60_000);
        if (r.ExitCode != 0) throw new InvalidOperationException("openssl req: " + r.Err);
        File.WriteAllText(pemPath, File.ReadAllText(scratch + ".crt") + File.ReadAllText(scratch + ".key"));
    }

    /// <summary>Queued messages, oldest first: (todo envelope file, message file).</summary>
    public List<(byte[] Todo, byte[] Message)> Queued()
    {
        return Home.Entries("todo")
            .Select(t => (Home.ReadQueueFile(Path.Combine("todo", t)), Id: Path.GetFileName(t)))
            .Select(x => (x.Item1, Home.ReadQueueFile(Path.Combine("mess", (long.Parse(x.Id) % 23).ToString(), x.Id))))
            .OrderBy(x => Encoding.Latin1.GetString(x.Item2))
            .ToList();
    }

    public static string S(byte[] b) => Encoding.Latin1.GetString(b);

    /// <summary>The message without the two Received lines the queue and smtpd prepend.</summary>
    public static string Body(byte[] message)
    {
        var s = S(message);
        var first = s.IndexOf('\n') + 1;          // qmail-queue's Received line
        var second = s.IndexOf('\n', s.IndexOf('\n', first) + 1) + 1; // smtpd's, two lines
        return s[second..];
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>The parts of TestHome's API the tests use, over a copied home.</summary>
public sealed class CopiedHome(string path)
{
    public string Path { get; } = path;
    public string Bin(string program) => System.IO.Path.Combine(Path, "bin", program);
    public string Queue(string relative) => System.IO.Path.Combine(Path, "queue", relative);
    public string Control(string name) => System.IO.Path.Combine(Path, "control", name);
    public void WriteControl(string name, string content) => File.WriteAllText(Control(name), content);
    public byte[] ReadQueueFile(string relative) => File.ReadAllBytes(Queue(relative));

    public List<string> Entries(string dir)
    {
        var root = Queue(dir);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(root, f)).OrderBy(f => f).ToList();
    }
}
