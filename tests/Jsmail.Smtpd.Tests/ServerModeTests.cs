using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using Xunit.Abstractions;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// jsmail-smtpd's server mode against real clients (swaks, Python's smtplib,
/// openssl s_client) over IPv4 and IPv6, with rules built by the real
/// tcprules: what it queues, the limits, deadlines and signals.
/// </summary>
public sealed class ServerModeTests(ITestOutputHelper output) : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new("jsmail-server");
    private readonly List<ServerModeServer> _servers = [];

    // Debian's tcprules compiles no IPv6 lines: ::1 relays through the default rule.
    private const string RelayRules = "127.0.0.1:allow,RELAYCLIENT=\"\"\n:allow,RELAYCLIENT=\"\"\n";

    private ServerModeServer Start(string? rules = RelayRules, IEnumerable<string>? options = null, IEnumerable<string>? listen = null,
        IEnumerable<string>? smtpdArgs = null)
    {
        var s = new ServerModeServer(_h.Home.Path, _dir.Path, rules, options, listen, smtpdArgs);
        _servers.Add(s);
        return s;
    }

    private static RunResult Swaks(string server, int port, params string[] extra) => SwaksClient.Send(server, port, extra);

    private string MessageFile(string body) => SwaksClient.MessageFile(_dir, body);

    private static bool HasIpv6Loopback()
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException) { return false; }
    }

    [Fact]
    public void Swaks_over_ipv4_and_ipv6_queues_byte_for_byte_with_tcpserver_variables()
    {
        HasIpv6Loopback().Should().BeTrue("the test machine has ::1");
        var v6Port = Ports.Free();
        var server = Start(listen: [$"[::1]:{v6Port}"]);
        var body = "From: s@x\nTo: a@other.com\nSubject: plain\n\n.starts with a dot\nline two\n";

        var r = Swaks("127.0.0.1", server.Port, "--to", "a@other.com", "--data", MessageFile(body));
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Should().Contain("<-  220 mx.example ESMTP").And.MatchRegex("<-  250 2.0.0 ok \\d+ qp \\d+");
        r = Swaks("::1", v6Port, "--to", "b@other.com", "--data", MessageFile(body.Replace("plain", "six")));
        r.ExitCode.Should().Be(0, r.Out + r.Err);

        var queued = _h.Queued();
        queued.Should().HaveCount(2);
        var four = queued.Single(q => SmtpdHome.S(q.Message).Contains("Subject: plain"));
        var six = queued.Single(q => SmtpdHome.S(q.Message).Contains("Subject: six"));
        SmtpdHome.S(four.Todo).Should().EndWith("\0Fs@x\0Ta@other.com\0");
        SmtpdHome.Body(four.Message).Should().Be(body);
        SmtpdHome.S(four.Message).Split('\n')[1].Should().Be("Received: from unknown (HELO client.example) (127.0.0.1)");
        SmtpdHome.S(four.Message).Split('\n')[2].Should().StartWith("  by mx.example with ESMTP; ");
        SmtpdHome.S(six.Todo).Should().EndWith("\0Fs@x\0Tb@other.com\0");
        SmtpdHome.S(six.Message).Split('\n')[1].Should().Be("Received: from unknown (HELO client.example) (::1)");
        server.WaitForLog("tcpserver: end 2 status ").Should().BeTrue(server.Log); // the log pipe lags the sessions
        server.Log.Should().MatchRegex(@"tcpserver: ok \d+ mx.example:127.0.0.1:\d+ :127.0.0.1::\d+")
            .And.MatchRegex(@"tcpserver: ok \d+ mx.example:::1:\d+ :::1::\d+")
            .And.MatchRegex(@"tcpserver: status: 1/1000").And.MatchRegex(@"tcpserver: end \d+ status 0");
    }

    [Fact]
    public void Python_smtplib_over_ipv4_and_ipv6()
    {
        var v6Port = Ports.Free();
        var server = Start(listen: [$"[::1]:{v6Port}"]);
        var script = """
import smtplib, sys
for host, port in (('127.0.0.1', int(sys.argv[1])), ('::1', int(sys.argv[2]))):
    s = smtplib.SMTP(host, port, local_hostname='py.example', timeout=20)
    s.ehlo('py.example')
    assert s.has_extn('pipelining') and s.has_extn('8bitmime'), s.esmtp_features
    refused = s.sendmail('s@x', ['a@other.com', 'b@example.com'], b'Subject: py ' + host.encode() + b'\r\n\r\nh\xc3\xa9llo\r\n.dot\r\n',
        mail_options=['BODY=8BITMIME'])
    assert refused == {}, refused
    s.quit()
print('sent')
""";
        File.WriteAllText(_dir["client.py"], script);
        var r = Run.Process("/usr/bin/python3", [_dir["client.py"], server.Port.ToString(), v6Port.ToString()], timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("sent\n");
        var bodies = _h.Queued().Select(q => SmtpdHome.Body(q.Message)).ToList();
        bodies.Should().BeEquivalentTo(["Subject: py 127.0.0.1\n\nh\u00c3\u00a9llo\n.dot\n", "Subject: py ::1\n\nh\u00c3\u00a9llo\n.dot\n"]);
    }

    [Fact]
    public void Starttls_and_implicit_tls_on_465_with_openssl_s_client()
    {
        SmtpdHome.WriteCertificate(_h.Home.Control("servercert.pem"), _dir["cert"]);
        var check = SmtpdHome.WriteCheckpassword(_dir["checkpassword"], _dir["seen"]);
        var smtps = Ports.Free();
        var server = Start(listen: [$"127.0.0.1:{smtps}/smtps"], smtpdArgs: ["mx.example", check, "/bin/true"]);
        const string message = "MAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: tls\r\n\r\nsecret\r\n.\r\nQUIT\r\n";

        var r = Run.Process("openssl", ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-starttls", "smtp", "-quiet", "-ign_eof",
            "-servername", "mx.example"], Encoding.ASCII.GetBytes("EHLO tls.example\r\n" + message), timeoutMs: 60_000);
        r.Out.Should().Contain("250 2.1.5 ok").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+").And.Contain("221 2.0.0 mx.example");

        // 465 is submission over TLS (RFC 8314): the greeting inside TLS, and AUTH before MAIL
        var plain = Convert.ToBase64String(Encoding.ASCII.GetBytes("\0alice\0open sesame"));
        r = Run.Process("openssl", ["s_client", "-connect", $"127.0.0.1:{smtps}", "-quiet", "-ign_eof", "-servername", "mx.example"],
            Encoding.ASCII.GetBytes("EHLO tls.example\r\nMAIL FROM:<s@x>\r\nAUTH PLAIN " + plain + "\r\n" + message), timeoutMs: 60_000);
        r.Out.Should().StartWith("220 mx.example ESMTP").And.Contain("250 AUTH PLAIN LOGIN").And.Contain("530 5.7.0 authentication required")
            .And.Contain("235 2.7.0").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+");

        var received = _h.Queued().Select(q => SmtpdHome.S(q.Message).Split('\n')[2]).ToList();
        received.Should().HaveCount(2).And.OnlyContain(l => l.Contains("with ESMTPS (TLSv1.") || l.Contains("with ESMTPSA (TLSv1."));
    }

    [Fact]
    public void Auth_on_the_submission_port_with_swaks_over_starttls()
    {
        SmtpdHome.WriteCertificate(_h.Home.Control("servercert.pem"), _dir["cert"]);
        var check = SmtpdHome.WriteCheckpassword(_dir["checkpassword"], _dir["seen"]);
        var submission = Ports.Free();
        var server = Start(rules: ":allow\n", listen: [$"127.0.0.1:{submission}/submission"],
            smtpdArgs: ["mx.example", check, "/bin/true"]);

        // submission: nothing without AUTH (RFC 6409), then the message with it
        var r = Swaks("127.0.0.1", submission, "--to", "a@other.com", "-tls");
        r.Out.Should().Contain("530 5.7.0 authentication required");
        r = Swaks("127.0.0.1", submission, "--to", "a@other.com", "-tls", "--auth", "PLAIN", "--auth-user", "alice",
            "--auth-password", "open sesame");
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Should().Contain("235 2.7.0").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        r = Swaks("127.0.0.1", submission, "--to", "a@other.com", "-tls", "--auth", "PLAIN", "--auth-user", "alice",
            "--auth-password", "wrong");
        r.Out.Should().Contain("535 5.7.8");
        // the smtp port of the same server relays nothing for anyone
        r = Swaks("127.0.0.1", server.Port, "--to", "a@other.com");
        r.Out.Should().Contain("553 5.7.1");
        _h.Queued().Should().ContainSingle();
    }

    [Fact]
    public void Rules_from_tcprules_deny_assign_and_choose_the_longest_prefix_as_tcpserver_does()
    {
        var wrapper = _dir["queue-wrapper"];
        File.WriteAllText(wrapper, $"#!/bin/sh\necho \"$TCPREMOTEIP $PROTO $TCPLOCALHOST $GREETING_NOTE\" >> {_dir["wrapper-used"]}\nexec {_h.Home.Bin("qmail-queue")}\n");
        File.SetUnixFileMode(wrapper, (UnixFileMode)0x1ED);
        var rules = $"127.0.0.1:allow,RELAYCLIENT=\"\",DATABYTES=\"300\",QMAILQUEUE=\"{wrapper}\",GREETING_NOTE=\"longest\"\n" +
                    "127.:allow,GREETING_NOTE=\"shorter\"\n" +
                    ":deny\n";
        var v6Port = Ports.Free();
        var server = Start(rules, listen: [$"[::1]:{v6Port}"]);

        // 127.0.0.1 follows its own rule, not 127.: it may relay, has a DATABYTES limit and a queue wrapper
        var ok = server.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: small\r\n\r\nhi\r\n.\r\nQUIT\r\n");
        ok.Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+").And.Contain("221 2.0.0 mx.example");
        File.ReadAllText(_dir["wrapper-used"]).Should().Be("127.0.0.1 TCP mx.example longest\n");
        var big = server.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\n" + new string('y', 500) + "\r\n.\r\nQUIT\r\n");
        big.Should().Contain("552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)");
        _h.Queued().Should().ContainSingle();

        // ::1 follows the default rule, deny: the connection is closed without a word, as tcpserver does
        ServerModeServer.Talk(IPAddress.IPv6Loopback, v6Port, "QUIT\r\n"u8.ToArray()).Should().BeEmpty();
        // the log comes through a pipe read on another thread: the close can reach us before the line does
        server.WaitForLog("tcpserver: deny ").Should().BeTrue(server.Log);
        server.Log.Should().MatchRegex(@"tcpserver: deny \d+ mx.example:::1:\d+ :::1::\d+");

        // the same file under tcpserver -x gives the same replies
        var tcpserverPort = Ports.Free();
        var cdb = ServerModeServer.CompileRules(rules, _dir.Path);
        using var tcpserver = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", cdb, "127.0.0.1", tcpserverPort.ToString(), _h.Home.Bin("qmail-smtpd")],
            env: SmtpdHome.BaseEnvironment(compat: false).ToDictionary(kv => kv.Key, _ => (string?)null), redirect: Redirect.Error | Redirect.Output);
        try
        {
            Ports.WaitForListener(tcpserverPort, "tcpserver");
            foreach (var conversation in new[]
                     {
                         "HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\n" + new string('y', 500) + "\r\n.\r\nQUIT\r\n",
                         "EHLO c\r\nMAIL FROM:<s@x> SIZE=400\r\nRCPT TO:<a@other.com>\r\nRSET\r\nNOOP\r\nQUIT\r\n",
                     })
            {
                var bytes = Encoding.ASCII.GetBytes(conversation);
                var viaServer = Encoding.ASCII.GetString(server.Talk(bytes));
                var viaTcpserver = Encoding.ASCII.GetString(ServerModeServer.Talk(IPAddress.Loopback, tcpserverPort, bytes));
                viaServer.Should().Be(viaTcpserver);
            }
        }
        finally
        {
            Libc.Kill(tcpserver.Id, Libc.SIGKILL);
            tcpserver.WaitForExit(10_000);
        }
    }

    [Fact]
    public void Messages_go_through_jsmail_queued_when_it_listens()
    {
        using var queued = Run.Start(_h.Home.Bin("jsmail-queued"), [], redirect: Redirect.Error | Redirect.Output);
        try
        {
            Wait.Until(() => File.Exists(Path.Combine(_h.Home.Path, "queued", "socket")) || queued.HasExited, 30).Should().BeTrue();
            queued.HasExited.Should().BeFalse();
            var server = Start(options: ["--queue", "service"]);
            var reply = server.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: svc\r\n\r\nhi\r\n.\r\nQUIT\r\n");
            reply.Should().MatchRegex($"250 2.0.0 ok \\d+ qp {queued.Id}\r\n", "qp names the service");
            var (todo, message) = _h.Queued().Single();
            SmtpdHome.S(todo).Should().EndWith("\0Fs@x\0Ta@other.com\0");
            SmtpdHome.Body(message).Should().Be("Subject: svc\n\nhi\n");
        }
        finally
        {
            Libc.Kill(queued.Id, Libc.SIGTERM);
            queued.WaitForExit(30_000);
        }
    }

    [Fact]
    public void With_queue_service_and_no_service_listening_every_message_gets_451_and_nothing_is_queued()
    {
        var server = Start(options: ["--queue", "service"]);
        var reply = server.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n");
        reply.Should().Contain("451 4.3.0 unable to exec qq (#4.3.0)").And.NotContain("250 2.0.0 ok ");
        _h.Queued().Should().BeEmpty();

        // the default falls back to the queue program when the service is not listening
        var fallback = Start();
        fallback.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\nSubject: y\r\n\r\nhi\r\n.\r\nQUIT\r\n")
            .Should().MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        _h.Queued().Should().ContainSingle();
    }

    [Fact]
    public void Past_the_per_ip_and_the_global_limit_a_client_gets_421()
    {
        var perIp = Start(options: ["--max-per-ip", "1"]);
        using (var first = Greeted(perIp.Port))
        {
            perIp.Talk("QUIT\r\n").Should().Be("421 4.7.0 too many connections from your address, try again later\r\n");
        }
        perIp.WaitForLog("status: 0/1000").Should().BeTrue(perIp.Log);
        perIp.Talk("QUIT\r\n").Should().StartWith("220 mx.example ESMTP");

        var global = Start(options: ["--max-connections", "2", "--max-per-ip", "0"]);
        using (Greeted(global.Port))
        using (Greeted(global.Port))
        {
            global.Talk("QUIT\r\n").Should().Be("421 4.7.0 too many connections, try again later\r\n");
        }

        var rate = Start(options: ["--max-rate-per-ip", "2"]);
        rate.Talk("QUIT\r\n").Should().StartWith("220 ");
        rate.Talk("QUIT\r\n").Should().StartWith("220 ");
        rate.Talk("QUIT\r\n").Should().Be("421 4.7.0 too many connections from your address in the last minute, try again later\r\n");
    }

    /// <summary>A connection that has read its greeting and stays open.</summary>
    private static Socket Greeted(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        s.Connect(IPAddress.Loopback, port);
        var buf = new byte[512];
        var n = s.Receive(buf);
        Encoding.ASCII.GetString(buf, 0, n).Should().StartWith("220 ");
        return s;
    }

    [Fact]
    public void A_client_sending_a_byte_every_second_is_dropped_at_the_session_deadline_while_others_are_served()
    {
        var server = Start(options: ["--session-timeout", "3"]);
        using var slow = Greeted(server.Port);
        var closed = false;
        var reply = new StringBuilder();
        var command = Encoding.ASCII.GetBytes("NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP\r\n");
        for (var i = 0; i < command.Length && !closed; i++) // bounded: the line is 60 bytes, 60 seconds at most
        {
            try { slow.Send(command, i, 1, SocketFlags.None); }
            catch (SocketException) { closed = true; break; }
            if (slow.Poll(1_000_000, SelectMode.SelectRead))
            {
                var buf = new byte[512];
                var n = slow.Receive(buf);
                if (n == 0) closed = true;
                reply.Append(Encoding.ASCII.GetString(buf, 0, n));
                closed |= reply.ToString().Contains("451");
            }
            if (i == 1) server.Talk("QUIT\r\n").Should().StartWith("220 mx.example ESMTP", "another client is served meanwhile");
        }
        closed.Should().BeTrue("the session deadline ends a client that never finishes its command");
        reply.ToString().Should().Contain("451 4.4.2 timeout (#4.4.2)");
        server.WaitForLog("session deadline passed").Should().BeTrue(server.Log);
    }

    [Fact]
    public void Ten_thousand_idle_connections_are_held_while_a_new_client_gets_its_greeting()
    {
        const int idle = 10_000;
        var soft = Libc.RaiseSoftLimitToHard(Libc.RLIMIT_NOFILE);
        soft.Should().BeGreaterThan(idle + 200, "the test holds a descriptor per idle connection");
        var server = Start(options: ["--max-connections", "20000", "--max-per-ip", "0"]);
        var held = new List<Socket>(idle);
        try
        {
            for (var i = 0; i < idle; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(IPAddress.Loopback, server.Port);
                held.Add(s);
            }
            server.WaitForLog($"status: {idle}/20000", 300).Should().BeTrue("every idle connection is a session");
            server.Talk("QUIT\r\n").Should().StartWith("220 mx.example ESMTP");
            var rss = server.Status("VmRSS:");
            output.WriteLine($"{idle} idle sessions: {rss}");
            // they are sessions, not a backlog: each one has had its greeting
            var buf = new byte[512];
            held[^1].ReceiveTimeout = 30_000;
            Encoding.ASCII.GetString(buf, 0, held[^1].Receive(buf)).Should().StartWith("220 ");
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }

    [Fact]
    public async Task A_message_over_databytes_is_refused_and_the_server_survives_hostile_input_meanwhile_serving_others()
    {
        _h.Home.WriteControl("databytes", "10000\n");
        var server = Start();
        var hostile = new[]
        {
            new string('A', 100_000) + "\r\n",
            "NO\0OP\r\n\0\r\n\r\r\nMAIL FROM:<" + new string('x', 5000) + ">\r\n",
            "HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\n\r\n.\n\r\n.\r\n",
            "EHLO c\r\nAUTH PLAIN\r\n*\r\nSTARTTLS\r\nBDAT 10 LAST\r\n0123456789",
        };
        var tasks = hostile.Select(h => Task.Run(() => server.Talk(Encoding.Latin1.GetBytes(h)))).ToList();
        server.Talk("QUIT\r\n").Should().StartWith("220 mx.example ESMTP");
        var replies = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        Encoding.ASCII.GetString(replies[0]).Should().Contain("500 5.5.2 line too long (#5.5.2)");

        var body = string.Concat(Enumerable.Repeat(new string('z', 998) + "\r\n", 200)); // 200 kB
        var big = server.Talk("EHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\n" + body + ".\r\nQUIT\r\n");
        big.Should().Contain("552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)");
        _h.Queued().Should().BeEmpty();
        server.Talk("QUIT\r\n").Should().StartWith("220 mx.example ESMTP", "it still serves");
    }

    [Fact]
    public void Sighup_rereads_smtpgreeting_for_new_sessions_and_sigterm_exits_0_after_the_open_session_ends()
    {
        var server = Start();
        using var open = Greeted(server.Port);
        _h.Home.WriteControl("smtpgreeting", "changed.example greets\n");
        server.Signal(Libc.SIGHUP);
        server.WaitForLog("reloaded control files").Should().BeTrue(server.Log);
        server.Talk("QUIT\r\n").Should().StartWith("220 changed.example greets ESMTP");

        server.Signal(Libc.SIGTERM);
        server.WaitForLog("stopping: 1 sessions open").Should().BeTrue(server.Log);
        Ports.Listening(server.Port).Should().BeFalse("no new connection is accepted after SIGTERM");
        server.WaitForExit(1).Should().BeNull("the open session keeps the server");
        // the session that started before the reload still greets as before, and ends normally
        open.Send("NOOP\r\nQUIT\r\n"u8.ToArray());
        var buf = new byte[512];
        var reply = new StringBuilder();
        int n;
        while ((n = open.Receive(buf)) > 0) reply.Append(Encoding.ASCII.GetString(buf, 0, n));
        reply.ToString().Should().Be("250 2.0.0 ok\r\n221 2.0.0 mx.example\r\n");
        server.WaitForExit(60).Should().Be(0, server.Log);
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        _dir.Dispose();
        _h.Dispose();
    }
}
