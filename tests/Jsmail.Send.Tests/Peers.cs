using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>A real account (useradd) whose home's .qmail delivers to ./Maildir/; removed on dispose.</summary>
public sealed class MailUser : IDisposable
{
    private readonly TempDir _dir = new("jsmail-user");
    public string Name { get; } = "jss" + Guid.NewGuid().ToString("N")[..6];
    public string Home => _dir["home"];
    public string Maildir => Path.Combine(Home, "Maildir");

    public MailUser(string maildirmake)
    {
        Directory.CreateDirectory(Home);
        var r = Run.Shell("useradd -M -d \"$2\" -s /bin/sh -U \"$1\" && cd \"$2\" && \"$3\" Maildir && printf './Maildir/\\n' >.qmail && " +
                          "chown -R \"$1:$1\" . && chmod 0755 .", args: [Name, Home, maildirmake]);
        if (r.ExitCode != 0) throw new InvalidOperationException("cannot make the user: " + r.Err);
    }

    /// <summary>The messages delivered so far (Maildir/new).</summary>
    public string[] Messages() =>
        Directory.GetFiles(Path.Combine(Maildir, "new")).Order().Select(f => File.ReadAllText(f, Encoding.Latin1)).ToArray();

    public void Dispose()
    {
        Run.Shell("userdel \"$1\"; groupdel \"$1\" 2>/dev/null; true", args: [Name]);
        _dir.Dispose();
    }
}

/// <summary>
/// Postfix's smtp-sink on a loopback port, dumping every transaction into one
/// file (its X-Rcpt-Args lines name the recipients). Killed on dispose.
/// </summary>
public sealed class SmtpSink : IDisposable
{
    private readonly TempDir _dir = new("jsmail-sink");
    private readonly Process _process;
    public int Port { get; }
    public string DumpPath => _dir["dump/all"];

    /// <param name="counting">smtp-sink -c as well: its running "sess=S quit=Q mesg=M" counts, read by <see cref="Counts"/></param>
    public SmtpSink(bool counting = false)
    {
        Directory.CreateDirectory(_dir["dump"]);
        File.SetUnixFileMode(_dir["dump"], (UnixFileMode)0x1FF); // written as nobody
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        _process = counting
            ? Run.Start("/bin/bash", ["-c", "exec /usr/sbin/smtp-sink -u nobody -c -D \"$1\" 127.0.0.1:\"$2\" 256 >\"$3\" 2>/dev/null </dev/null",
                "smtp-sink", DumpPath, Port.ToString(), _dir["counts"]])
            : Run.Start("/usr/sbin/smtp-sink", ["-u", "nobody", "-D", DumpPath, $"127.0.0.1:{Port}", "10"], redirect: Redirect.Error);
        var up = SendHarness.WaitUntil(() =>
        {
            try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, Port); return true; }
            catch (SocketException) { return _process.HasExited; }
        }, 10_000);
        if (!up || _process.HasExited) throw new InvalidOperationException("smtp-sink did not start");
    }

    public string Dump => File.Exists(DumpPath) ? File.ReadAllText(DumpPath, Encoding.Latin1) : "";

    /// <summary>
    /// With counting: the SMTP sessions that have ended and the DATA
    /// transactions so far, from smtp-sink -c's last "sess=S quit=Q mesg=M"
    /// (a session counts once it has ended: stop the client first).
    /// </summary>
    public (int Sessions, int Transactions) Counts
    {
        get
        {
            var text = File.Exists(_dir["counts"]) ? File.ReadAllText(_dir["counts"]) : "";
            var last = System.Text.RegularExpressions.Regex.Matches(text, @"sess=(\d+) quit=\d+ mesg=(\d+)").LastOrDefault();
            return last == null ? (0, 0) : (int.Parse(last.Groups[1].Value), int.Parse(last.Groups[2].Value));
        }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// The scripted SMTP peer of jsmail-remote's tests (Jsmail.Remote.Tests/peers/smtp_stub.py)
/// on 127.0.0.1, recording every byte it receives; serves <c>connections</c> connections.
/// </summary>
public sealed class ScriptedPeer : IDisposable
{
    private readonly TempDir _dir = new("jsmail-stub");
    private readonly Process _process;
    public int Port { get; }

    /// <param name="rcpt">RCPT replies chosen by a substring of the address</param>
    public ScriptedPeer(string ehloReply, int connections, IReadOnlyDictionary<string, string>? rcpt = null)
    {
        var config = new System.Text.Json.Nodes.JsonObject
        {
            ["listen"] = new System.Text.Json.Nodes.JsonArray("127.0.0.1", 0),
            ["portfile"] = _dir["port"], ["record"] = _dir["record"], ["timeout"] = 60,
            ["connections"] = connections,
            ["replies"] = new System.Text.Json.Nodes.JsonObject { ["EHLO"] = ehloReply },
        };
        if (rcpt != null)
        {
            var map = new System.Text.Json.Nodes.JsonObject();
            foreach (var (pattern, reply) in rcpt) map[pattern] = reply;
            config["rcpt"] = map;
        }
        File.WriteAllText(_dir["config.json"], config.ToJsonString());
        _process = Run.Start("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "peers", "smtp_stub.py"), _dir["config.json"]]);
        if (!Wait.Until(() => File.Exists(_dir["port"]), 10)) throw new InvalidOperationException("the stub SMTP peer did not start");
        Port = int.Parse(File.ReadAllText(_dir["port"]));
    }

    /// <summary>Everything received so far, every connection's bytes in turn.</summary>
    public string Received => File.Exists(_dir["record"]) ? File.ReadAllText(_dir["record"], Encoding.Latin1) : "";

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}
