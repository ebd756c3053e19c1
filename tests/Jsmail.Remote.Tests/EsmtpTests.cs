using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-remote's ESMTP beyond qmail against real and scripted peers:
/// PIPELINING, STARTTLS (control/tlsdestinations), AUTH (control/remoteauth),
/// DSN and SMTPUTF8 parameters, 8BITMIME; and none of it with JSMAIL_COMPAT=qmail.
/// </summary>
public class EsmtpTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-esmtp");
    private static readonly Lazy<TestCertificates> s_certs = new(() => new TestCertificates());
    private static TestCertificates Certs => s_certs.Value;
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private const string Message = "From: a@b\nSubject: test\n\n.leading dot\nplain line\n";

    /// <summary>Runs jsmail-remote with the message on fd 0; fd 1 with NULs shown as '|'.</summary>
    private string Remote(string message, bool compat, string[] args, Dictionary<string, string?>? env = null)
    {
        File.WriteAllText(_dir["msg"], message, Encoding.Latin1);
        var e = new Dictionary<string, string?>(env ?? []) { ["JSMAIL_COMPAT"] = compat ? "qmail" : null, ["MSG"] = _dir["msg"] };
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote") }.Concat(args),
            env: e, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    private string Remote(string message, params string[] args) => Remote(message, false, args);

    private void RouteTo(int port, string domain = "x.test") => _home.WriteControl("smtproutes", $"{domain}:127.0.0.1:{port}\n");

    private static JsonObject Ehlo(params string[] keywords) =>
        new() { ["EHLO"] = string.Join("\r\n", new[] { "stub" }.Concat(keywords).Select((k, i) => (i == keywords.Length ? "250 " : "250-") + k)) };

    // ---- PIPELINING ----

    [Fact]
    public void Pipelining_sends_mail_every_rcpt_and_data_before_reading_a_reply()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = Ehlo("PIPELINING"), ["hold"] = 0.3,
            ["rcpt"] = new JsonObject { ["bad"] = "550 5.1.1 no such user" },
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test", "bad@x.test", "d@x.test").Should().Be(
            "r|h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 no such user\n|r|" +
            "K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|");
        var t = peer.Transcript;
        var mail = Array.FindIndex(t, l => l.StartsWith("C: MAIL"));
        t[mail..(mail + 9)].Should().Equal(
            "C: MAIL FROM:<a@b>", "C: RCPT TO:<c@x.test>", "C: RCPT TO:<bad@x.test>", "C: RCPT TO:<d@x.test>", "C: DATA",
            "S: 250 ok", "S: 250 ok", "S: 550 5.1.1 no such user", "S: 250 ok");
        t[mail + 9].Should().Be("S: 354 go ahead");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_pipelined_data_after_every_rcpt_was_refused_sends_no_message(bool peerSays354Anyway)
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = Ehlo("PIPELINING"), ["rcpt"] = new JsonObject { ["bad"] = "550 5.1.1 no such user" },
            ["data_354_anyway"] = peerSays354Anyway,
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "bad@x.test").Should().Be(
            "h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 no such user\n|D" +
            "Giving up on 127.0.0.1.\n|");
        var commands = peer.Transcript.Where(l => l.StartsWith("C: ")).SkipWhile(l => !l.StartsWith("C: MAIL")).ToArray();
        // RFC 2920 3.1: a 354 after every recipient was refused is answered with the message's end alone
        commands.Should().Equal(peerSays354Anyway
            ? ["C: MAIL FROM:<a@b>", "C: RCPT TO:<bad@x.test>", "C: DATA", "C: .", "C: QUIT"]
            : ["C: MAIL FROM:<a@b>", "C: RCPT TO:<bad@x.test>", "C: DATA", "C: QUIT"]);
        peer.Received.Should().NotContain("Subject", "no byte of the message is sent");
    }

    [Fact]
    public void Without_pipelining_each_command_waits_for_its_reply()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("8BITMIME"), ["hold"] = 0.2 });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test", "d@x.test").Should().StartWith("r|r|K");
        var t = peer.Transcript;
        var mail = Array.FindIndex(t, l => l.StartsWith("C: MAIL"));
        t[mail..(mail + 6)].Should().Equal("C: MAIL FROM:<a@b>", "S: 250 ok", "C: RCPT TO:<c@x.test>", "S: 250 ok",
            "C: RCPT TO:<d@x.test>", "S: 250 ok");
    }

    [Fact]
    public void Pipelined_refused_sender_reads_the_group_and_sends_no_message()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 PIPELINING", ["MAIL"] = "553 5.7.1 no relay", ["RCPT"] = "503 5.5.1 MAIL first" },
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test", "d@x.test").Should().Be(
            "DConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 553 5.7.1 no relay\n|");
        peer.Received.Should().EndWith("MAIL FROM:<a@b>\r\nRCPT TO:<c@x.test>\r\nRCPT TO:<d@x.test>\r\nDATA\r\nQUIT\r\n",
            "DATA ends the group (RFC 2920 3.1); refused, as the peer refuses it without a recipient");
    }

    [Fact]
    public void Compat_mode_speaks_helo_without_extensions_whatever_the_peer_and_control_files_say()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = Ehlo("PIPELINING", "STARTTLS", "DSN", "SMTPUTF8", "AUTH PLAIN LOGIN", "SIZE 10"),
        });
        RouteTo(peer.Port);
        _home.WriteControl("helohost", "relay.example\n");
        _home.WriteControl("tlsdestinations", ":require\n");
        _home.WriteControl("remoteauth", "127.0.0.1:user:secret\n");
        Remote("Subject: caf\xe9\n\n\xe9\n", true, ["x.test", "a@b", "c@x.test"],
            new() { ["JSMAIL_MAIL_PARAMETERS"] = "RET=HDRS ENVID=e1", ["JSMAIL_RCPT_PARAMETERS_0"] = "NOTIFY=NEVER" })
            .Should().StartWith("r|K");
        peer.Received.Should().Be("HELO relay.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n" +
            "Subject: caf\xe9\r\n\r\n\xe9\r\n.\r\nQUIT\r\n");
    }

    // ---- STARTTLS ----

    [Fact]
    public void Starttls_when_offered_then_ehlo_again_and_the_message_under_tls()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = Ehlo("STARTTLS"), ["ehlo_tls"] = "250-stub\r\n250 PIPELINING", ["tls"] = Certs.Server("elsewhere"),
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith("r|K127.0.0.1 accepted message.");
        var t = peer.Transcript.Where(l => l.StartsWith("C: ") || l == "TLS").ToArray();
        t[..5].Select(l => l.Split(' ')[0] + " " + (l.Length > 3 ? l.Split(' ').ElementAtOrDefault(1) : ""))
            .Should().Equal("C: EHLO", "C: STARTTLS", "TLS ", "C: EHLO", "C: MAIL");
        peer.Received.Should().Contain("\r\n..leading dot\r\nplain line\r\n.\r\nQUIT\r\n", "the decrypted DATA");
    }

    [Fact]
    public void Broken_handshake_is_temporary_with_a_clear_report()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("STARTTLS"), ["tls_garbage"] = true });
        RouteTo(peer.Port);
        var output = Remote(Message, "x.test", "a@b", "c@x.test");
        output.Should().StartWith("ZConnected to 127.0.0.1 but the TLS handshake failed: ").And.EndWith(". (#4.7.0)\n|");
        output.Count(c => c == '|').Should().Be(1, "no recipient is reported: the whole message stays queued");
        peer.Received.Should().NotContain("MAIL");
    }

    [Fact]
    public void Required_tls_not_offered_is_temporary_and_names_the_rule()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("PIPELINING") });
        RouteTo(peer.Port, ".x.test");
        _home.WriteControl("tlsdestinations", "other.test:verify\n.x.test:require\n");
        Remote(Message, "mx.x.test", "a@b", "c@mx.x.test").Should().Be(
            "ZConnected to 127.0.0.1 but it does not offer STARTTLS, which control/tlsdestinations requires for mx.x.test. (#4.7.0)\n|");
        peer.Received.Should().NotContain("MAIL").And.EndWith("QUIT\r\n");
    }

    [Fact]
    public void Required_tls_refused_is_temporary()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 STARTTLS", ["STARTTLS"] = "454 4.7.0 TLS not available" },
        });
        RouteTo(peer.Port);
        _home.WriteControl("tlsdestinations", "x.test:require\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().Be(
            "ZConnected to 127.0.0.1 but STARTTLS was refused.\nRemote host said: 454 4.7.0 TLS not available\n|");
    }

    [Fact]
    public void Opportunistic_tls_refused_goes_on_in_plain_text()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 STARTTLS", ["STARTTLS"] = "454 4.7.0 TLS not available" },
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith("r|K");
        peer.Received.Should().Contain("STARTTLS\r\nMAIL FROM:<a@b>\r\n");
    }

    [Fact]
    public void Tls_off_never_starts_tls()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("STARTTLS") });
        RouteTo(peer.Port);
        _home.WriteControl("tlsdestinations", "x.test:off\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith("r|K");
        peer.Received.Should().NotContain("STARTTLS");
    }

    [Theory]
    [InlineData("loopback", "ca", "r|K127.0.0.1 accepted message.")]
    [InlineData("elsewhere", "ca", "ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not name 127.0.0.1. (#4.7.0)\n|")]
    [InlineData("loopback", "other-ca", "ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (")]
    public void Verify_checks_the_chain_against_the_ca_file_and_the_name(string server, string ca, string expected)
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("STARTTLS"), ["tls"] = Certs.Server(server) });
        RouteTo(peer.Port);
        _home.WriteControl("tlsdestinations", $":verify:{(ca == "ca" ? Certs.CaFile : Certs.OtherCaFile)}\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith(expected);
    }

    [Fact]
    public void Real_peer_aiosmtpd_requiring_starttls_receives_the_message_byte_for_byte()
    {
        using var peer = new AiosmtpdPeer(new JsonObject { ["tls"] = Certs.Server("loopback"), ["require_tls"] = true });
        RouteTo(peer.Port);
        _home.WriteControl("tlsdestinations", $"x.test:verify:{Certs.CaFile}\n");
        Remote("From: a@b\nSubject: tls\n\n.dot\n..two\nend\n", "x.test", "a@b", "c@x.test")
            .Should().Be("r|K127.0.0.1 accepted message.\nRemote host said: 250 2.0.0 stored\n|");
        var m = peer.Messages.Should().ContainSingle().Subject;
        m["tls"]!.GetValue<bool>().Should().BeTrue();
        m["content"]!.GetValue<string>().Should().Be("From: a@b\r\nSubject: tls\r\n\r\n.dot\r\n..two\r\nend\r\n");
    }

    // ---- AUTH ----

    [Theory]
    [InlineData("secret", "r|K127.0.0.1 accepted message.")]
    [InlineData("wrong", "ZConnected to 127.0.0.1 but authentication was rejected (AUTH PLAIN).\nRemote host said: 535 5.7.8 Authentication credentials invalid\n|")]
    public void Auth_plain_over_tls_to_aiosmtpd(string password, string expected)
    {
        using var peer = new AiosmtpdPeer(new JsonObject
        {
            ["tls"] = Certs.Server("loopback"), ["users"] = new JsonObject { ["relayuser"] = "secret" },
        });
        _home.WriteControl("smtproutes", $":127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remoteauth", $"127.0.0.1:relayuser:{password}\n");
        Remote(Message, "anywhere.test", "a@b", "c@anywhere.test").Should().StartWith(expected);
        if (password == "secret") peer.Messages.Single()["auth"]!.GetValue<string>().Should().Be("relayuser");
    }

    [Fact]
    public void Auth_login_when_plain_is_not_offered_with_a_password_holding_colons()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 AUTH LOGIN CRAM-MD5", ["AUTH"] = "334 VXNlcm5hbWU6" },
            ["auth_steps"] = new JsonArray("334 UGFzc3dvcmQ6", "235 2.7.0 ok"),
        });
        RouteTo(peer.Port);
        _home.WriteControl("remoteauth", $"!127.0.0.1:me:pa:ss\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith("r|K");
        peer.Received.Should().Contain($"AUTH LOGIN\r\n{B64("me")}\r\n{B64("pa:ss")}\r\nMAIL FROM:<a@b>\r\n");
    }

    [Fact]
    public void Auth_refused_is_temporary_and_sends_nothing_more()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 AUTH PLAIN", ["AUTH"] = "535 5.7.8 bad credentials" },
        });
        RouteTo(peer.Port);
        _home.WriteControl("remoteauth", "!127.0.0.1:me:pw\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().Be(
            "ZConnected to 127.0.0.1 but authentication was rejected (AUTH PLAIN).\nRemote host said: 535 5.7.8 bad credentials\n|");
        peer.Received.Should().EndWith($"AUTH PLAIN {Convert.ToBase64String("\0me\0pw"u8.ToArray())}\r\nQUIT\r\n");
    }

    [Fact]
    public void Credentials_are_not_sent_without_tls_unless_the_line_allows_it()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("AUTH PLAIN") });
        RouteTo(peer.Port);
        _home.WriteControl("remoteauth", "127.0.0.1:me:pw\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().Be(
            "ZConnected to 127.0.0.1 but without TLS, and control/remoteauth sends credentials only over TLS. (#4.7.0)\n|");
        peer.Received.Should().NotContain("AUTH");
    }

    [Fact]
    public void Credentials_for_another_relay_are_not_used()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("AUTH PLAIN") });
        RouteTo(peer.Port);
        _home.WriteControl("remoteauth", "!smarthost.test:me:pw\n");
        Remote(Message, "x.test", "a@b", "c@x.test").Should().StartWith("r|K");
        peer.Received.Should().NotContain("AUTH");
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    // ---- DSN, SMTPUTF8, 8BITMIME ----

    private static readonly Dictionary<string, string?> DsnEnv = new()
    {
        ["JSMAIL_MAIL_PARAMETERS"] = "SIZE=99 RET=HDRS ENVID=QQ314159 BODY=7BIT",
        ["JSMAIL_RCPT_PARAMETERS_0"] = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@x.test",
        ["JSMAIL_RCPT_PARAMETERS_2"] = "NOTIFY=NEVER bad\u0001word",
    };

    [Fact]
    public void Dsn_parameters_from_the_environment_go_to_a_peer_offering_dsn()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("DSN", "PIPELINING") });
        RouteTo(peer.Port);
        Remote(Message, false, ["x.test", "a@b", "c@x.test", "d@x.test", "e@x.test"], DsnEnv).Should().StartWith("r|r|r|K");
        peer.Received.Should().Contain(
            "MAIL FROM:<a@b> RET=HDRS ENVID=QQ314159\r\n" +
            "RCPT TO:<c@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@x.test\r\nRCPT TO:<d@x.test>\r\nRCPT TO:<e@x.test> NOTIFY=NEVER\r\n");
    }

    [Fact]
    public void Dsn_parameters_are_dropped_for_a_peer_without_dsn()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("PIPELINING") });
        RouteTo(peer.Port);
        // NOTIFY=SUCCESS stays with us: the recipient's record says so, for jsmail-send's "relayed" report (docs/spawn-protocol.md)
        Remote(Message, false, ["x.test", "a@b", "c@x.test", "d@x.test", "e@x.test"], DsnEnv)
            .Should().StartWith("rRelayed to 127.0.0.1 without DSN.\n|r|r|K127.0.0.1 accepted message.");
        peer.Received.Should().Contain("MAIL FROM:<a@b>\r\nRCPT TO:<c@x.test>\r\nRCPT TO:<d@x.test>\r\nRCPT TO:<e@x.test>\r\n");
    }

    [Fact]
    public void Compat_mode_says_nothing_of_a_NOTIFY_SUCCESS_the_peer_did_not_get()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("PIPELINING") });
        RouteTo(peer.Port);
        Remote(Message, true, ["x.test", "a@b", "c@x.test"], DsnEnv).Should().StartWith("r|K127.0.0.1 accepted message.");
    }

    [Theory]
    [InlineData("a@b", "j\xc3\xb6rg@x.test", null)]
    [InlineData("j\xc3\xb6rg@b", "c@x.test", null)]
    [InlineData("a@b", "c@x.test", "SMTPUTF8")]
    public void Smtputf8_needed_but_not_offered_is_permanent_5_6_7(string sender, string rcpt, string? mailParameters)
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("8BITMIME") });
        RouteTo(peer.Port);
        Remote(Message, false, ["x.test", sender, rcpt], new() { ["JSMAIL_MAIL_PARAMETERS"] = mailParameters }).Should().Be(
            "DConnected to 127.0.0.1 but it does not support SMTPUTF8, which this message needs. (#5.6.7)\n|");
        peer.Received.Should().NotContain("MAIL");
    }

    [Fact]
    public void Smtputf8_to_aiosmtpd_offering_it()
    {
        using var peer = new AiosmtpdPeer(new JsonObject { ["smtputf8"] = true });
        RouteTo(peer.Port);
        var message = "Subject: gr\xc3\xbc\xc3\x9f\n\nK\xc3\xa4se\n";
        Remote(message, "x.test", "j\xc3\xb6rg@b", "m\xc3\xbcller@x.test").Should().StartWith("r|K");
        var m = peer.Messages.Single();
        m["mail_options"]!.AsArray().Select(o => o!.GetValue<string>()).Should().Contain("SMTPUTF8").And.Contain("BODY=8BITMIME");
        // aiosmtpd 1.4 hands the addresses on as Latin-1 decoded bytes: the bytes on the wire were UTF-8
        Encoding.Latin1.GetBytes(m["mail_from"]!.GetValue<string>()).Should().Equal(Encoding.UTF8.GetBytes("jörg@b"));
        Encoding.Latin1.GetBytes(m["rcpt_tos"]![0]!.GetValue<string>()).Should().Equal(Encoding.UTF8.GetBytes("müller@x.test"));
        m["content"]!.GetValue<string>().Should().Be("Subject: gr\xc3\xbc\xc3\x9f\r\n\r\nK\xc3\xa4se\r\n");
    }

    [Fact]
    public void Eight_bit_message_to_a_peer_without_8bitmime_is_permanent_5_6_3()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("PIPELINING") });
        RouteTo(peer.Port);
        Remote("Subject: x\n\ncaf\xe9\n", "x.test", "a@b", "c@x.test").Should().Be(
            "DConnected to 127.0.0.1 but it does not support 8BITMIME, and this message has 8-bit bytes. (#5.6.3)\n|");
        peer.Received.Should().NotContain("MAIL");
    }

    /// <summary>The refusals where it cannot go: ChunkingTests.</summary>
    [Theory]
    [InlineData("BODY=BINARYMIME", "")]
    [InlineData("body=binarymime SMTPUTF8", " SMTPUTF8")]
    public void A_binarymime_message_goes_by_bdat_to_a_peer_offering_chunking_and_binarymime(string mailParameters, string more)
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = Ehlo("8BITMIME", "SMTPUTF8", "CHUNKING", "BINARYMIME") });
        RouteTo(peer.Port);
        Remote("Subject: x\r\n\r\nbinary\r\n", false, ["x.test", "a@b", "c@x.test"], new() { ["JSMAIL_MAIL_PARAMETERS"] = mailParameters }).Should().Be(
            "r|K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|");
        peer.Received.Should().EndWith($"MAIL FROM:<a@b> BODY=BINARYMIME{more}\r\nRCPT TO:<c@x.test>\r\nBDAT 22 LAST\r\nSubject: x\r\n\r\nbinary\r\nQUIT\r\n");
    }

    [Fact]
    public void Enhanced_status_codes_stay_in_the_report()
    {
        using var peer = new StubPeer(config: new JsonObject
        {
            ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 ENHANCEDSTATUSCODES", ["DOT"] = "554-5.7.1 rejected\r\n554 5.7.1 spam" },
        });
        RouteTo(peer.Port);
        Remote(Message, "x.test", "a@b", "c@x.test").Should().Be(
            "r|D127.0.0.1 failed after I sent the message.\nRemote host said: 554-5.7.1 rejected\n554 5.7.1 spam\n|");
    }

    // ---- smtp-sink ----

    [Fact]
    public void Real_peer_smtp_sink_with_pipelining_takes_the_message()
    {
        var port = Ports.Free();
        var dump = _dir["sink"];
        Directory.CreateDirectory(dump);
        Run.Shell("chmod 777 \"$1\"", args: dump);
        using var sink = Run.Start("/usr/sbin/smtp-sink", ["-u", "nobody", "-d", dump + "/%M.", "-h", "sink.test", $"127.0.0.1:{port}", "10"]);
        try
        {
            Wait.Until(() => Ports.Listening(port), 5, pollMs: 25);
            RouteTo(port);
            Remote(Message, "x.test", "a@b", "c@x.test", "d@x.test").Should().Match("r|r|K127.0.0.1 accepted message.\nRemote host said: 250 2.0.0 Ok*");
            var file = Directory.GetFiles(dump).Should().ContainSingle().Subject;
            var stored = File.ReadAllText(file, Encoding.Latin1);
            stored.Should().Contain("X-Client-Proto: ESMTP").And.Contain("X-Rcpt-Args: <c@x.test>").And.Contain("X-Rcpt-Args: <d@x.test>");
            // smtp-sink's dump: LF line ends, the dot unstuffed, an empty line after the message
            stored.Should().EndWith("\nFrom: a@b\nSubject: test\n\n.leading dot\nplain line\n\n");
        }
        finally
        {
            if (!sink.HasExited) sink.Kill();
            sink.WaitForExit(5_000);
        }
    }
}
