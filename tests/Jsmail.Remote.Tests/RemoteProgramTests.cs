using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>jsmail-remote as a process against scripted peers: qmail-interfaces §6, §16 items 31-34.</summary>
public class RemoteProgramTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-remote");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private static readonly string Message = "From: a@b\nSubject: test\n\n.leading dot\nplain line\n";

    /// <summary>Runs jsmail-remote; returns its fd 1 with NULs shown as '|' and its exit code.</summary>
    private (string Out, int Code) Remote(string message, bool compat, params string[] args)
    {
        File.WriteAllText(_dir["msg"], message, Encoding.Latin1);
        var env = new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = compat ? "qmail" : null };
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote") }.Concat(args),
            env: new Dictionary<string, string?>(env) { ["MSG"] = _dir["msg"] }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        return (Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|'), r.ExitCode);
    }

    private void RouteTo(StubPeer peer, string domain = "x.test") =>
        _home.WriteControl("smtproutes", $"{domain}:{peer.Ip}:{peer.Port}\n");

    [Fact]
    public void Delivers_and_reports_as_qmail_remote()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["DOT"] = "250 ok 1704445623 qp 999" } });
        RouteTo(peer);
        _home.WriteControl("helohost", "relay.example\n");
        var (output, code) = Remote(Message, compat: true, "x.test", "a@b", "c@x.test");
        code.Should().Be(0);
        output.Should().Be("r|K127.0.0.1 accepted message.\nRemote host said: 250 ok 1704445623 qp 999\n|");
        peer.Received.Should().Be(
            "HELO relay.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n" +
            "From: a@b\r\nSubject: test\r\n\r\n..leading dot\r\nplain line\r\n.\r\nQUIT\r\n");
    }

    [Fact]
    public void Refused_recipients_are_reported_one_by_one_and_all_refused_gives_up()
    {
        using var peer = new StubPeer(config: new JsonObject { ["rcpt"] = new JsonObject { ["bad"] = "550 no such user", ["busy"] = "450 try later" } });
        RouteTo(peer);
        var (output, _) = Remote(Message, true, "x.test", "a@b", "bad@x.test", "busy@x.test");
        output.Should().Be(
            "h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n|" +
            "s127.0.0.1 does not like recipient.\nRemote host said: 450 try later\n|" +
            "DGiving up on 127.0.0.1.\n|");
        peer.Received.Should().EndWith("RCPT TO:<busy@x.test>\r\nQUIT\r\n", "QUIT is sent without DATA");
    }

    [Theory]
    [InlineData("greeting", "554 go away", "ZConnected to 127.0.0.1 but greeting failed.\nRemote host said: 554 go away\n|")]
    [InlineData("HELO", "501 bad name", "ZConnected to 127.0.0.1 but my name was rejected.\nRemote host said: 501 bad name\n|")]
    [InlineData("MAIL", "553 no relay", "DConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 553 no relay\n|")]
    [InlineData("MAIL", "451 later", "ZConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 451 later\n|")]
    [InlineData("DATA", "554 no data", "r|D127.0.0.1 failed on DATA command.\nRemote host said: 554 no data\n|")]
    [InlineData("DATA", "452 full", "r|Z127.0.0.1 failed on DATA command.\nRemote host said: 452 full\n|")]
    [InlineData("DOT", "554 spam", "r|D127.0.0.1 failed after I sent the message.\nRemote host said: 554 spam\n|")]
    [InlineData("DOT", "451 scan failed", "r|Z127.0.0.1 failed after I sent the message.\nRemote host said: 451 scan failed\n|")]
    [InlineData("DOT", "250-first\r\n550-mixed codes\r\n250 last", "r|K127.0.0.1 accepted message.\nRemote host said: 250-first\n550-mixed codes\n250 last\n|")]
    [InlineData("MAIL", "garbage", "ZConnected to 127.0.0.1 but sender was rejected.\nRemote host said: garbage\n|")]
    public void Every_refusal_has_qmails_words(string step, string reply, string expected)
    {
        var config = new JsonObject();
        if (step == "greeting") config["greeting"] = reply;
        else config["replies"] = new JsonObject { [step] = reply };
        using var peer = new StubPeer(config: config);
        RouteTo(peer);
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out.Should().Be(expected);
        peer.Received.Should().EndWith("QUIT\r\n");
    }

    [Theory]
    [InlineData("RCPT", "ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n|")]
    [InlineData("DOT", "r|ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n|")]
    public void Dropped_connection_is_temporary_and_after_the_dot_a_possible_duplicate(string step, string expected)
    {
        using var peer = new StubPeer(config: new JsonObject { ["close_on"] = step });
        RouteTo(peer);
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out.Should().Be(expected);
    }

    [Fact]
    public void Peer_that_hangs_mid_data_times_out()
    {
        using var peer = new StubPeer(config: new JsonObject { ["hang_on"] = "DOT", ["timeout"] = 20 });
        RouteTo(peer);
        _home.WriteControl("timeoutremote", "2\n");
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out
            .Should().Be("r|ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n|");
    }

    [Theory]
    [InlineData("no final newline")]
    [InlineData("Subject: x\n\nlast line")]
    public void Partial_final_line_is_refused(string message)
    {
        using var peer = new StubPeer();
        RouteTo(peer);
        Remote(message, true, "x.test", "a@b", "c@x.test").Out
            .Should().Be("r|DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|");
    }

    [Theory]
    [InlineData("no final newline", true)]
    [InlineData("Subject: x\n\nlast line", false)]
    public void Partial_final_line_is_refused_before_DATA(string message, bool compat)
    {
        // The message is a file: its last byte says before DATA that it cannot be sent.
        using var peer = new StubPeer();
        RouteTo(peer);
        Remote(message, compat, "x.test", "a@b", "c@x.test").Out
            .Should().Be("r|DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|");
        peer.Transcript.Where(l => l.StartsWith("C: ")).Select(l => l.Split(' ')[1])
            .Should().NotContain("DATA").And.EndWith("QUIT");
        peer.Received.Should().NotContain(message.Split('\n')[^1]);
    }

    [Theory]
    [InlineData("Subject: x\n\nends in a lone CR\r", "Subject: x\r\n\r\nends in a lone CR\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    public void A_message_file_whose_last_line_ends_is_sent(string message, string data)
    {
        // The check before DATA agrees with the encoder: a trailing lone CR ends a line, nothing is no line.
        using var peer = new StubPeer();
        RouteTo(peer);
        Remote(message, true, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        peer.Received.Should().Contain("DATA\r\n" + data + "QUIT\r\n");
    }

    [Fact]
    public void Partial_final_line_from_a_pipe_is_refused_at_its_end()
    {
        // Not seekable: the last byte is known only when read, after DATA.
        using var peer = new StubPeer();
        RouteTo(peer);
        File.WriteAllText(_dir["msg"], "Subject: x\n\nlast line", Encoding.Latin1);
        var r = Run.Process("/bin/bash", new[] { "-c", "cat \"$MSG\" | \"$0\" \"$@\"", _home.Bin("qmail-remote"), "x.test", "a@b", "c@x.test" },
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"] }, timeoutMs: 60_000);
        Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|')
            .Should().Be("r|DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|");
        peer.Transcript.Should().Contain("C: DATA");
    }

    [Fact]
    public void Delivers_through_a_bracketed_IPv6_route_with_a_port()
    {
        using var peer = new StubPeer("::1");
        _home.WriteControl("smtproutes", $"x.test:[IPv6:::1]:{peer.Port}\n");
        var (output, code) = Remote(Message, false, "x.test", "a@b", "c@x.test");
        (output, code).Should().Be(("r|K::1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|", 0));
        peer.Received.Should().Contain("RCPT TO:<c@x.test>\r\nDATA\r\n");
        peer.Clients.Should().ContainSingle().Which.Should().StartWith("::1");
    }

    [Fact]
    public void Bare_cr_and_lf_never_reach_the_wire()
    {
        using var peer = new StubPeer();
        RouteTo(peer);
        Remote("a\rb\nc\r\n.\r\n\n", true, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        var data = peer.Received;
        var body = data[(data.IndexOf("DATA\r\n") + 6)..data.IndexOf("\r\n.\r\nQUIT")];
        body.Should().Be("a\r\nb\r\nc\r\n..\r\n");
        body.Replace("\r\n", "").Should().NotContainAny("\r", "\n");
    }

    [Fact]
    public void Invoked_improperly()
    {
        Remote(Message, true, "x.test", "a@b").Out.Should().Be("DI (qmail-remote) was invoked improperly. (#5.3.5)\n|");
    }

    [Fact]
    public void Addresses_are_quoted_as_qmail_quotes_them()
    {
        using var peer = new StubPeer();
        RouteTo(peer);
        Remote(Message, true, "x.test", "a b@c", "\"q\"@x.test", "").Out.Should().StartWith("r|r|K");
        peer.Received.Should().Contain("MAIL FROM:<\"a b\"@c>\r\nRCPT TO:<\"\\\"q\\\"\"@x.test>\r\nRCPT TO:<>\r\n");
    }

    [Fact]
    public void Routes_pick_the_relay_port_suffixes_and_the_default_route()
    {
        using var exact = new StubPeer();
        using var fallback = new StubPeer();
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{exact.Port}\n:127.0.0.1:{fallback.Port}\n");
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        Remote(Message, true, "other.test", "a@b", "c@other.test").Out.Should().StartWith("r|K");
        exact.Received.Should().Contain("RCPT TO:<c@x.test>");
        fallback.Received.Should().Contain("RCPT TO:<c@other.test>");
    }

    [Fact]
    public void Address_marked_down_in_tcpto_is_skipped()
    {
        using var peer = new StubPeer();
        RouteTo(peer);
        var table = new byte[1024];
        table[0] = 127; table[3] = 1; table[4] = 2;
        BitConverter.GetBytes((uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds()).CopyTo(table, 8);
        File.WriteAllBytes(_home.Queue("lock/tcpto"), table);
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out
            .Should().Be("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
    }

    [Fact]
    public void Connection_refused_is_temporary_and_resets_no_count()
    {
        _home.WriteControl("smtproutes", "x.test:127.0.0.1:1\n");
        Remote(Message, true, "x.test", "a@b", "c@x.test").Out
            .Should().Be("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
        File.ReadAllBytes(_home.Queue("lock/tcpto")).Should().OnlyContain(b => b == 0, "only timeouts are recorded");
    }

    [Fact]
    public void Esmtp_outside_compat_mode_with_size_and_8bitmime()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250 PIPELINING" } });
        RouteTo(peer);
        var message = "Subject: caf\xe9\n\n8-bit body \xe9\n";
        Remote(message, false, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        peer.Received.Should().Contain($"EHLO ").And.Contain($"MAIL FROM:<a@b> SIZE={message.Length} BODY=8BITMIME\r\n");
    }

    [Fact]
    public void Peer_size_limit_refuses_before_sending()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = "250-stub\r\n250 SIZE 10" } });
        RouteTo(peer);
        Remote(Message, false, "x.test", "a@b", "c@x.test").Out
            .Should().Be($"D127.0.0.1 accepts messages of at most 10 bytes; this one has {Message.Length}. (#5.3.4)\n|");
        peer.Received.Should().NotContain("MAIL FROM");
    }

    [Fact]
    public void Ehlo_refused_falls_back_to_helo()
    {
        using var peer = new StubPeer(config: new JsonObject { ["replies"] = new JsonObject { ["EHLO"] = "502 unimplemented" } });
        RouteTo(peer);
        Remote(Message, false, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        peer.Received.Should().MatchRegex("^EHLO [^\r]+\r\nHELO [^\r]+\r\nMAIL FROM:<a@b>\r\n");
    }

    [Fact]
    public void Connects_from_the_address_in_control_outgoingip()
    {
        using var peer = new StubPeer();
        RouteTo(peer);
        _home.WriteControl("outgoingip", "::1\n127.0.0.2\n");
        var (output, _) = Remote(Message, compat: false, "x.test", "a@b", "c@x.test");
        output.Should().StartWith("r|K127.0.0.1 accepted message.");
        peer.Clients.Should().Equal("127.0.0.2");
    }

    [Fact]
    public void Without_outgoingip_or_in_compat_mode_the_kernel_chooses_the_source()
    {
        using var plain = new StubPeer();
        RouteTo(plain);
        Remote(Message, compat: false, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        plain.Clients.Should().Equal("127.0.0.1");

        using var compat = new StubPeer();
        RouteTo(compat);
        _home.WriteControl("outgoingip", "127.0.0.2\n");
        Remote(Message, compat: true, "x.test", "a@b", "c@x.test").Out.Should().StartWith("r|K");
        compat.Clients.Should().Equal(new[] { "127.0.0.1" }, "qmail-remote has no outgoingip");
    }

    [Fact]
    public void An_outgoingip_that_is_not_ours_fails_the_connection_and_a_bad_one_the_control_files()
    {
        using var peer = new StubPeer(config: new JsonObject { ["timeout"] = 3 });
        RouteTo(peer);
        _home.WriteControl("outgoingip", "192.0.2.1\n"); // TEST-NET-1: bind(2) refuses it
        Remote(Message, compat: false, "x.test", "a@b", "c@x.test").Out
            .Should().Be("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
        _home.WriteControl("outgoingip", "relay.example\n");
        Remote(Message, compat: false, "x.test", "a@b", "c@x.test").Out
            .Should().Be("ZUnable to read control files. (#4.3.0)\n|");
        peer.Clients.Should().BeEmpty();
    }
}
