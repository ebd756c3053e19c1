using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// SMTP TLS reporting (RFC 8460, docs/tls-reporting.md): DANE sessions made by
/// jsmail-remote and by the pooled jsmail-rspawn to scripted peers (the
/// validating resolver of <see cref="DaneZone"/>), some whose certificate
/// matches the TLSA record and some whose does not, recorded in queue/tlsrpt/;
/// jsmail-tlsrpt's report of that day validated by python3-jsonschema against
/// a schema written from §4.4, its counts held against the connections the
/// peers saw, and its mail (§5.3) queued by jsmail-inject.
/// </summary>
public sealed class TlsReportingTests : IClassFixture<DaneZone>, IDisposable
{
    private const string StartTls = "250-stub\r\n250 STARTTLS";

    private readonly DaneZone _zone;
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-tlsrpt-test");
    private readonly List<StubPeer> _peers = [];

    public TlsReportingTests(DaneZone zone)
    {
        _zone = zone;
        _home.WriteControl("dnsresolvers", $"127.0.0.1:{zone.Port}\n");
        _home.WriteControl("timeoutconnect", "5\n");
        _home.WriteControl("me", "mta.sender.test\n");
        _home.WriteControl("tlsrptorganization", "Sender Test Org\n");
        _home.WriteControl("tlsrptcontact", "tls-reports@sender.test\n");
    }

    public void Dispose()
    {
        foreach (var p in _peers) p.Dispose();
        _home.Dispose();
        _dir.Dispose();
    }

    private StubPeer Peer(string ip, string certificate, int connections)
    {
        var peer = new StubPeer(ip, 25, new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = StartTls }, ["tls"] = _zone.Certificate(certificate), ["connections"] = connections,
        });
        _peers.Add(peer);
        return peer;
    }

    private static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private string DayFile(string day) => _home.Queue("tlsrpt/" + day);

    /// <summary>jsmail-remote for one recipient at <paramref name="domain"/>: its report, NULs as '|'.</summary>
    private string Remote(string domain, bool compat = false)
    {
        File.WriteAllText(_dir["msg"], "Subject: tlsrpt\n\nbody\n");
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("jsmail-remote"), domain, "a@b.test", "c@" + domain],
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null }, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    /// <summary>jsmail-rspawn (pooled, one session per destination) delivering one message per recipient; its output.</summary>
    private string PooledRSpawn(params string[] recipients)
    {
        _home.WriteControl("remotesessions", "1\n");
        var commands = new List<byte>();
        for (var i = 0; i < recipients.Length; i++)
        {
            File.WriteAllText(_home.Queue($"mess/0/{600 + i}"), $"Subject: pooled {i}\n\nbody\n");
            commands.AddRange(Encoding.Latin1.GetBytes($"{(char)i}0/{600 + i}\0s@x\0{recipients[i]}\0"));
        }
        File.WriteAllBytes(_dir["commands"], [.. commands]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_COMPAT"] = null, ["QMAILREMOTE"] = null },
            timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private RunResult Tlsrpt(params string[] args)
    {
        var r = Run.Process(_home.Bin("jsmail-tlsrpt"), args, env: new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = null }, timeoutMs: 120_000);
        r.TimedOut.Should().BeFalse();
        return r;
    }

    private string ReportDirectory => _home.Queue("tlsrpt/reports");

    private static JsonObject Decompressed(string file)
    {
        using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        return JsonNode.Parse(gz)!.AsObject();
    }

    [Fact]
    public void Sessions_of_both_remote_paths_are_reported_per_policy_domain_and_the_report_validates_against_rfc_8460()
    {
        // Sessions: rpt.dane.test 2 by jsmail-remote + 1 pooled session carrying 3 messages; rptbad.dane.test 1 + 1, both refused.
        var good = Peer(DaneZone.ReportingMx, "mx-ee", connections: 3);
        var bad = Peer(DaneZone.ReportingBadMx, "other", connections: 2);
        Remote("rpt.dane.test").Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        Remote("rpt.dane.test").Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        Remote("rptbad.dane.test").Should().StartWith($"ZConnected to {DaneZone.ReportingBadMx} but the TLS handshake failed");
        var pooled = PooledRSpawn("u1@rpt.dane.test", "u2@rpt.dane.test", "u3@rpt.dane.test", "v@rptbad.dane.test");
        pooled.Split($"K{DaneZone.ReportingMx} accepted message.").Length.Should().Be(4, pooled);
        var day = Today;

        good.Clients.Should().HaveCount(3, "three sessions carried the five messages");
        bad.Clients.Should().HaveCount(2);
        bad.Transcript.Should().NotContain(l => l.StartsWith("C: MAIL", StringComparison.Ordinal));
        File.ReadAllLines(DayFile(day)).Should().HaveCount(5, "one line per session");

        var r = Tlsrpt("--day", day, "--no-mail");
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        var files = Directory.GetFiles(ReportDirectory).Select(Path.GetFileName).Order().ToList();
        var start = new DateTimeOffset(DateTime.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture), TimeSpan.Zero).ToUnixTimeSeconds();
        files.Should().Equal($"mta.sender.test!rpt.dane.test!{start}!{start + 86399}.json.gz", $"mta.sender.test!rptbad.dane.test!{start}!{start + 86399}.json.gz");

        foreach (var file in files) ReportSchema.Problems(Path.Combine(ReportDirectory, file!)).Should().BeEmpty(file);

        var report = Decompressed(Path.Combine(ReportDirectory, files[0]!));
        report["organization-name"]!.GetValue<string>().Should().Be("Sender Test Org");
        report["contact-info"]!.GetValue<string>().Should().Be("tls-reports@sender.test");
        report["date-range"]!["start-datetime"]!.GetValue<string>().Should().Be(day + "T00:00:00Z");
        var policy = report["policies"]!.AsArray().Should().ContainSingle().Subject!;
        policy["policy"]!["policy-type"]!.GetValue<string>().Should().Be("tlsa");
        policy["policy"]!["policy-domain"]!.GetValue<string>().Should().Be("rpt.dane.test");
        policy["policy"]!["mx-host"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("mx-rpt.dane.test");
        policy["policy"]!["policy-string"]!.AsArray().Should().ContainSingle().Which!.GetValue<string>().Should().StartWith("3 1 1 ");
        policy["summary"]!["total-successful-session-count"]!.GetValue<int>().Should().Be(good.Clients.Length);
        policy["summary"]!["total-failure-session-count"]!.GetValue<int>().Should().Be(0);

        var failed = Decompressed(Path.Combine(ReportDirectory, files[1]!))["policies"]!.AsArray().Should().ContainSingle().Subject!;
        failed["summary"]!["total-successful-session-count"]!.GetValue<int>().Should().Be(0);
        failed["summary"]!["total-failure-session-count"]!.GetValue<int>().Should().Be(bad.Clients.Length);
        var detail = failed["failure-details"]!.AsArray().Should().ContainSingle().Subject!;
        detail["result-type"]!.GetValue<string>().Should().Be("validation-failure");
        detail["receiving-mx-hostname"]!.GetValue<string>().Should().Be("mx-rptbad.dane.test");
        detail["receiving-ip"]!.GetValue<string>().Should().Be(DaneZone.ReportingBadMx);
        detail["sending-mta-ip"]!.GetValue<string>().Should().Be("127.0.0.1");
        detail["failed-session-count"]!.GetValue<int>().Should().Be(2);

        // A second run for the day writes and mails nothing again.
        Tlsrpt("--day", day).Out.Should().Contain("rpt.dane.test: already reported").And.Contain("rptbad.dane.test: already reported");
        _home.Entries("todo").Should().BeEmpty();
    }

    [Fact]
    public void The_report_is_mailed_to_the_mailto_address_as_rfc_8460_section_5_3_describes()
    {
        Peer(DaneZone.ReportingMx, "mx-ee", connections: 1);
        Remote("rpt.dane.test").Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        var r = Tlsrpt("--day", Today);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Should().Contain($"mailed to {DaneZone.ReportAddress}");

        // jsmail-inject queued it (a single-user home: nothing delivers it here; TlsReportDeliveryTests does).
        var queued = _home.Entries("mess").Should().ContainSingle().Subject;
        var message = MimeKit.MimeMessage.Load(_home.Queue("mess/" + queued));
        ReportMessage.Check(message, "rpt.dane.test", "mta.sender.test", expectedSuccesses: 1);
        Encoding.Latin1.GetString(_home.ReadQueueFile("todo/" + Path.GetFileName(queued))).Should()
            .Contain("Ftls-reports@sender.test\0").And.Contain($"T{DaneZone.ReportAddress}\0");
    }

    [Fact]
    public void A_bogus_tlsa_answer_is_reported_as_dnssec_invalid_with_no_session_made()
    {
        Remote("bogus.dane.test").Should().StartWith("ZSorry, the TLSA records of the mail exchangers of bogus.dane.test");
        var r = Tlsrpt("--day", Today, "--no-mail");
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        var file = Directory.GetFiles(ReportDirectory).Should().ContainSingle().Subject;
        ReportSchema.Problems(file).Should().BeEmpty();
        var policy = Decompressed(file)["policies"]!.AsArray().Should().ContainSingle().Subject!;
        policy["policy"]!["policy-type"]!.GetValue<string>().Should().Be("tlsa");
        policy["summary"]!["total-failure-session-count"]!.GetValue<int>().Should().Be(1);
        var detail = policy["failure-details"]!.AsArray().Should().ContainSingle().Subject!;
        detail["result-type"]!.GetValue<string>().Should().Be("dnssec-invalid");
        detail["receiving-mx-hostname"]!.GetValue<string>().Should().Be("mx-bogus.dane.test");
        detail.AsObject().ContainsKey("receiving-ip").Should().BeFalse("no address was connected to");
    }

    [Fact]
    public void Nothing_is_recorded_under_compat_or_with_TLSRPT_in_remotedisable()
    {
        Peer(DaneZone.ReportingMx, "mx-ee", connections: 3);
        Remote("rpt.dane.test", compat: true).Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        _home.WriteControl("remotedisable", "tlsrpt\n");
        Remote("rpt.dane.test").Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        Directory.GetFiles(_home.Queue("tlsrpt")).Should().BeEmpty();
        Tlsrpt("--day", Today).Out.Should().Contain("TLS reporting is off (TLSRPT in control/remotedisable): nothing done");

        // The counter-proof: switched on again, the same delivery is recorded.
        _home.WriteControl("remotedisable", "");
        Remote("rpt.dane.test").Should().StartWith($"r|K{DaneZone.ReportingMx} accepted message.");
        File.ReadAllLines(DayFile(Today)).Should().ContainSingle().Which.Should().Contain("\"result-type\":\"success\"");
    }

    /// <summary>
    /// A privileged home run by jsmail-start: the sessions made by jsmail-rspawn
    /// as qmailr are recorded in queue/tlsrpt/ (install.sh made it qmailr's),
    /// jsmail-tlsrpt run as qmailr mails the two reports through jsmail-inject, and
    /// jsmail-send delivers them to the Maildir of the reports' address
    /// (users/assign gives tlsrpt@reports.test nobody's uid and a home of its own).
    /// </summary>
    [Fact]
    public void Through_a_running_queue_the_reports_reach_the_maildir_of_the_mailto_address()
    {
        using var home = TestHome.Install(privileged: true);
        using var box = new TempDir("jsmail-tlsrpt-box");
        var mailbox = box["home"];
        Directory.CreateDirectory(mailbox);
        Run.Process(home.Bin("jsmail-maildirmake"), [Path.Combine(mailbox, "Maildir")]).ExitCode.Should().Be(0);
        Run.Process("chown", ["-R", "65534:65534", mailbox]).ExitCode.Should().Be(0);
        foreach (var (name, value) in new[] { ("me", "mta.sender.test"), ("locals", "reports.test"), ("dnsresolvers", $"127.0.0.1:{_zone.Port}"),
                     ("timeoutconnect", "5"), ("remotesessions", "1"), ("tlsrptcontact", "tls-reports@sender.test") })
            home.WriteControl(name, value + "\n");
        File.WriteAllText(Path.Combine(home.Path, "users", "assign"), $"=tlsrpt:nobody:65534:65534:{mailbox}:::\n.\n");
        Run.Process(home.Bin("jsmail-newu"), []).ExitCode.Should().Be(0);
        var good = Peer(DaneZone.ReportingMx, "mx-ee", connections: 1);
        var bad = Peer(DaneZone.ReportingBadMx, "other", connections: 1);

        var log = Path.Combine(home.Path, "send.log");
        var env = new Dictionary<string, string?> { ["PATH"] = home.Path + "/bin:/usr/bin:/bin", ["JSMAIL_COMPAT"] = null };
        using var send = Run.Start("/bin/bash", ["-c", $"cd / && exec qmail-start ./Maildir/ >>'{log}' 2>&1 </dev/null"], env);
        try
        {
            foreach (var to in new[] { "c@rpt.dane.test", "c@rptbad.dane.test" })
                Run.Process(home.Bin("jsmail-inject"), ["-a", "-f", "s@sender.test", to], Encoding.ASCII.GetBytes("Subject: via the queue\n\nbody\n"), env)
                    .ExitCode.Should().Be(0);
            string Log() => File.Exists(log) ? File.ReadAllText(log) : "";
            Wait.Until(() => Log().Contains(": success: ") && Log().Contains(": deferral: "), 90).Should().BeTrue(Log());
            good.Clients.Should().HaveCount(1);
            bad.Clients.Should().HaveCount(1);

            var day = Today;
            Run.Process("stat", ["-c", "%U", DayFileOf(home, day)]).Out.Should().Be("qmailr\n", "jsmail-remote wrote it as qmailr");
            var r = Run.Process("setpriv", ["--reuid=qmailr", "--regid=qmail", "--clear-groups", home.Bin("jsmail-tlsrpt"), "--day", day], env: env, timeoutMs: 120_000);
            r.ExitCode.Should().Be(0, r.Out + r.Err);

            var inbox = Path.Combine(mailbox, "Maildir", "new");
            Wait.Until(() => Directory.GetFiles(inbox).Length == 2, 90).Should().BeTrue(Log());
            var messages = Directory.GetFiles(inbox).Select(f => MimeKit.MimeMessage.Load(f)).OrderBy(m => m.Headers["TLS-Report-Domain"]).ToList();
            ReportMessage.Check(messages[0], "rpt.dane.test", "mta.sender.test", expectedSuccesses: 1);
            ReportMessage.Check(messages[1], "rptbad.dane.test", "mta.sender.test", expectedSuccesses: 0);
            messages.Should().AllSatisfy(m => m.To.Mailboxes.Single().Address.Should().Be(DaneZone.ReportAddress));
        }
        finally
        {
            Jsmail.Common.Os.Libc.Kill(send.Id, 15); // qmail-start execs into jsmail-send, which ends its spawners on TERM
            if (!send.WaitForExit(30_000)) send.Kill(true);
        }
    }

    private static string DayFileOf(TestHome home, string day) => home.Queue("tlsrpt/" + day);

    [Fact]
    public void The_schema_check_refuses_a_report_that_breaks_rfc_8460()
    {
        // The validator must be able to fail: a report without its summary and with an unknown result type.
        var broken = _dir["broken.json.gz"];
        using (var gz = new GZipStream(File.Create(broken), CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes("""
                {"organization-name":"o","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-01T23:59:59Z"},
                 "contact-info":"c","report-id":"r","policies":[{"policy":{"policy-type":"tlsa","policy-domain":"d"},
                 "failure-details":[{"result-type":"no-such-result","receiving-mx-hostname":"m","failed-session-count":1}]}]}
                """));
        ReportSchema.Problems(broken).Should().Contain("summary").And.Contain("no-such-result");
    }
}
