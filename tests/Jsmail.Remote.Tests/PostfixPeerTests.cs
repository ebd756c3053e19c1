using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// A private Postfix instance (as bench/postfix.sh makes one): its own
/// config, queue and data directories, listening on a free loopback port,
/// no DNS, never touching the system's /etc/postfix. Every message it
/// accepts is put on hold (smtpd's HOLD action), so it stays in the queue
/// for postcat. Needs root and the Debian postfix package.
/// </summary>
public sealed class PostfixPeer : IDisposable
{
    private readonly TempDir _dir = new("jsmail-postfix");
    public int Port { get; } = Ports.Free();
    private string Conf => _dir["etc"];

    public PostfixPeer()
    {
        foreach (var d in new[] { "etc", "queue", "data" }) Directory.CreateDirectory(_dir[d]);
        Run.Process("chown", ["postfix:", _dir["data"]]).ExitCode.Should().Be(0);
        File.WriteAllText(_dir["etc/main.cf"], string.Join("\n",
            "compatibility_level = 3.6",
            $"queue_directory = {_dir["queue"]}",
            $"data_directory = {_dir["data"]}",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "myhostname = postfix.x.test",
            "mydomain = x.test",
            "myorigin = x.test",
            "mydestination = x.test",
            "mynetworks = 127.0.0.0/8",
            "smtpd_banner = $myhostname ESMTP",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            // every accepted message waits in queue/hold, where postcat reads it
            "smtpd_data_restrictions = check_client_access static:HOLD",
            // a remote client: no Message-Id or Date added, the message kept as it came
            "local_header_rewrite_clients =",
            "smtputf8_enable = yes",
            "smtp_dns_support_level = disabled",
            "alias_database =",
            "alias_maps =",
            "local_recipient_maps =",
            "biff = no") + "\n");
        File.WriteAllText(_dir["etc/master.cf"], string.Join("\n",
            $"127.0.0.1:{Port} inet n - n - - smtpd",
            "qmgr      unix  n - n 300 1 qmgr",
            "pickup    unix  n - n 60  1 pickup",
            "cleanup   unix  n - n - 0 cleanup",
            "rewrite   unix  - - n - - trivial-rewrite",
            "bounce    unix  - - n - 0 bounce",
            "defer     unix  - - n - 0 bounce",
            "trace     unix  - - n - 0 bounce",
            "proxymap  unix  - - n - - proxymap",
            "error     unix  - - n - - error",
            "local     unix  - n n - - local",
            "anvil     unix  - - n - 1 anvil",
            "scache    unix  - - n - 1 scache") + "\n");
        var start = Run.Process("/usr/sbin/postfix", ["-c", Conf, "start"]);
        if (start.ExitCode != 0) throw new InvalidOperationException("postfix start: " + start.Err);
        Ports.WaitForListener(Port, "postfix", seconds: 30);
    }

    /// <summary>The queue ids of the held messages.</summary>
    public string[] Held =>
        Directory.Exists(_dir["queue/hold"]) ? Directory.GetFiles(_dir["queue/hold"], "*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f)).ToArray() : [];

    /// <summary>postcat -q: the queue file's envelope records and message, as Latin-1.</summary>
    public string Postcat(string id)
    {
        var r = Run.Process("/usr/sbin/postcat", ["-c", Conf, "-q", id]);
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout);
    }

    public void Dispose()
    {
        Run.Process("/usr/sbin/postfix", ["-c", Conf, "stop"]);
        var pidFile = _dir["queue/pid/master.pid"];
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var master))
            Wait.Until(() => !Directory.Exists($"/proc/{master}"), 10);
        _dir.Dispose();
    }
}

/// <summary>
/// Issue 19: Postfix 3.7 as jsmail-remote's real receiving peer, with DSN
/// parameters, SMTPUTF8 and CHUNKING: what lands in its queue, read with
/// postcat, carries the parameters and the message byte for byte.
/// </summary>
public sealed class PostfixPeerTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-postfix-test");
    private readonly PostfixPeer _postfix = new();
    public void Dispose() { _postfix.Dispose(); _home.Dispose(); _dir.Dispose(); }

    /// <summary>UTF-8 headers, lines starting with dots, 8-bit body bytes.</summary>
    private const string Message = "From: a@b.test\nTo: j\u00f6rg@x.test\nSubject: caf\u00e9\n\n.leading dot\n..two dots\n.\n\u00e9t\u00e9\nend\n";

    [Fact]
    public void Postfix_queues_the_dsn_parameters_the_utf8_recipient_and_the_exact_bytes_sent_by_bdat()
    {
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{_postfix.Port}\n");
        File.WriteAllBytes(_dir["msg"], Encoding.UTF8.GetBytes(Message));
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote"), "x.test", "a@b.test", "j\u00f6rg@x.test"],
            env: new Dictionary<string, string?>
            {
                ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = null,
                ["JSMAIL_MAIL_PARAMETERS"] = "RET=HDRS ENVID=QQ314159 SMTPUTF8",
                ["JSMAIL_RCPT_PARAMETERS_0"] = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@x.test",
            }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        var report = Encoding.UTF8.GetString(r.Stdout).Replace('\0', '|');
        // Postfix words its reply to BDAT "<n> bytes queued" (to DATA's dot: "queued as" alone): the message went by BDAT
        report.Should().MatchRegex(@"^r\|K127\.0\.0\.1 accepted message\.\nRemote host said: 250 2\.0\.0 Ok: \d+ bytes queued as [0-9A-F]+\n\|$");

        var id = _postfix.Held.Should().ContainSingle().Subject;
        var postcat = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(_postfix.Postcat(id)));
        var envelope = postcat[..postcat.IndexOf("*** MESSAGE CONTENTS", StringComparison.Ordinal)];
        envelope.Should().Contain("\nnamed_attribute: envelope_id=QQ314159\n")
            .And.Contain("\nnamed_attribute: ret_flags=2\n", "RET=HDRS")
            .And.Contain("\nsender: a@b.test\n")
            .And.Contain("\nnamed_attribute: notify_flags=6\n", "NOTIFY=SUCCESS,FAILURE")
            .And.Contain("\nnamed_attribute: dsn_orig_rcpt=rfc822;c@x.test\n")
            .And.Contain("\nrecipient: j\u00f6rg@x.test\n");

        var contents = Regex.Match(postcat, @"\*\*\* MESSAGE CONTENTS [^\n]*\n(.*)\*\*\* HEADER EXTRACTED", RegexOptions.Singleline).Groups[1].Value;
        contents.Should().MatchRegex(@"^Received: from [^\n]*\n\tby postfix\.x\.test \(Postfix\) with UTF8SMTP id ");
        // below Postfix's Received line (its continuation lines start with a tab), the message as it was queued here
        var own = Regex.Match(contents, @"^Received: [^\n]*\n(\t[^\n]*\n)*").Length;
        contents[own..].Should().Be(Message);
    }
}
