using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// STARTTLS, AUTH and submission through the real tcpserver, driven by swaks,
/// openssl s_client and Python's smtplib, with a certificate made by openssl
/// req and a checkpassword shell script. No RELAYCLIENT anywhere: whatever
/// relays here relays because the client authenticated. Every session runs
/// with LD_DEBUG=files, which shows whether the TLS library was loaded.
/// </summary>
public sealed class TlsAuthTests : IDisposable
{
    private readonly SmtpdHome _h = new("example.com\n");
    private readonly TempDir _dir = new("jsmail-tls");
    private readonly List<Process> _servers = new();
    private readonly int _port, _submissionPort;

    public TlsAuthTests()
    {
        SmtpdHome.WriteCertificate(_h.Home.Control("servercert.pem"), _dir["cert"]);
        var checkpassword = SmtpdHome.WriteCheckpassword(_dir["checkpassword"], _dir["fd3"]);
        var run = _dir["run"];
        File.WriteAllText(run, $"#!/bin/sh\nLD_DEBUG=files exec {_h.Home.Bin("qmail-smtpd")} mx.example {checkpassword} /bin/true 2>>{_dir["stderr"]}\n");
        File.SetUnixFileMode(run, (UnixFileMode)0x1ED);
        _port = Serve("127.0.0.1:allow\n:deny\n", "mx");
        _submissionPort = Serve("127.0.0.1:allow,SUBMISSION=\"1\"\n:deny\n", "submission");
    }

    private int Serve(string rules, string name, string? runScript = null)
    {
        var r = Run.Process("tcprules", [_dir[name + ".cdb"], _dir[name + ".tmp"]], Encoding.ASCII.GetBytes(rules));
        r.ExitCode.Should().Be(0, r.Err);
        var port = Ports.Free();
        _servers.Add(Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", _dir[name + ".cdb"], "-c", "10", "127.0.0.1", port.ToString(), runScript ?? _dir["run"]],
            env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output));
        Ports.WaitForListener(port, "tcpserver");
        return port;
    }

    private string Log => File.Exists(_dir["stderr"]) ? File.ReadAllText(_dir["stderr"]) : "";

    /// <summary>jsmail-smtpd's own log lines, without the dynamic loader's.</summary>
    private string SmtpdLog => string.Join("\n", Log.Split('\n').Where(l => l.StartsWith("jsmail-smtpd: ")));

    private bool TlsLibraryLoaded => Log.Contains("libssl.so");

    private RunResult Swaks(params string[] extra)
    {
        var args = new List<string> { "--server", "127.0.0.1", "--port", _port.ToString(), "--helo", "client.example",
            "--from", "s@x", "--timeout", "20" };
        args.AddRange(extra);
        return Run.Process("swaks", args, timeoutMs: 60_000);
    }

    private string MessageFile(string body)
    {
        var f = _dir["msg-" + Guid.NewGuid().ToString("N")];
        File.WriteAllText(f, body.TrimEnd('\n'));
        return f;
    }

    private void QueuedOnce(string body, string recipients, string protocol)
    {
        var (todo, message) = _h.Queued().Single();
        SmtpdHome.S(todo).Should().EndWith("\0Fs@x\0" + recipients);
        SmtpdHome.Body(message).Should().Be(body);
        SmtpdHome.S(message).Split('\n')[2].Should().MatchRegex("^  by mx\\.example with " + protocol + " \\(TLSv1\\.[23] TLS_[A-Z0-9_]+\\); ");
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public void Swaks_tls_and_auth_relays_and_queues_byte_for_byte(string mechanism)
    {
        var body = "From: s@x\nTo: a@other.com\nSubject: tls " + mechanism + "\n\n.starts with a dot\nline two\n";
        var r = Swaks("--tls", "--auth", mechanism, "--auth-user", "alice", "--auth-password", "open sesame",
            "--to", "a@other.com", "--data", MessageFile(body));
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Should().Contain("<-  250 STARTTLS").And.Contain("<-  220 2.0.0 ready to start TLS")
            .And.Contain("<~  250 AUTH PLAIN LOGIN").And.Contain("<~  235 2.7.0 authentication successful");
        QueuedOnce(body, "Ta@other.com\0", "ESMTPSA");
        SmtpdLog.Should().Contain("authenticated as alice").And.NotContain("sesame");
        TlsLibraryLoaded.Should().BeTrue();
    }

    [Fact]
    public void Swaks_wrong_password_is_refused_and_nothing_relays()
    {
        var r = Swaks("--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "guess", "--to", "a@other.com");
        r.ExitCode.Should().NotBe(0);
        r.Out.Should().Contain("<~* 535 5.7.8 authentication failed (#5.7.8)");
        _h.Queued().Should().BeEmpty();
        SmtpdLog.Should().Contain("authentication failed for alice").And.NotContain("guess");
    }

    [Fact]
    public void Swaks_tls_without_auth_relays_nothing_but_delivers_locally()
    {
        var r = Swaks("--tls", "--to", "a@other.com");
        r.Out.Should().Contain("<~* 553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
        var body = "Subject: local\n\nhello\n";
        r = Swaks("--tls", "--to", "u@example.com", "--data", MessageFile(body));
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        QueuedOnce(body, "Tu@example.com\0", "ESMTPS");
    }

    [Fact]
    public void Plain_session_offers_starttls_but_no_auth_and_loads_no_tls_library()
    {
        var r = Swaks("--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "open sesame", "--to", "a@other.com");
        r.ExitCode.Should().NotBe(0);
        r.Out.Should().Contain("<-  250 STARTTLS").And.NotContain("AUTH PLAIN LOGIN");
        _h.Queued().Should().BeEmpty();
        TlsLibraryLoaded.Should().BeFalse();
        var smtpd = _h.Home.Bin("jsmail-smtpd");
        if (IsStaticallyLinked(smtpd))
            // No dynamic loader runs, so LD_DEBUG shows nothing: a static jsmail-smtpd
            // cannot load OpenSSL, for it does not even name it.
            File.ReadAllBytes(smtpd).AsSpan().IndexOf("libssl"u8).Should().Be(-1);
        else
            Log.Should().Contain("libc.so.6", "LD_DEBUG=files reached the program");
    }

    /// <summary>No PT_INTERP program header: nothing for the dynamic loader to do.</summary>
    private static bool IsStaticallyLinked(string path) =>
        !Run.Process("readelf", ["-l", path]).Out.Contains("INTERP");

    [Fact]
    public void Openssl_s_client_starttls_auth_and_data()
    {
        var plain = Convert.ToBase64String(Encoding.ASCII.GetBytes("\0alice\0open sesame"));
        var talk = "EHLO client.example\r\nAUTH PLAIN " + plain + "\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@other.com>\r\nDATA\r\n" +
                   "Subject: s_client\r\n\r\n..dot\r\nend\r\n.\r\nQUIT\r\n";
        var r = Run.Process("openssl", ["s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + _port, "-quiet"],
            Encoding.ASCII.GetBytes(talk), timeoutMs: 60_000);
        r.Out.Should().Contain("250 AUTH PLAIN LOGIN\r\n235 2.7.0 authentication successful\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
            .And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        QueuedOnce("Subject: s_client\n\n.dot\nend\n", "Ta@other.com\0", "ESMTPSA");
    }

    private RunResult Python(string script, int port)
    {
        var file = _dir["client-" + Guid.NewGuid().ToString("N") + ".py"];
        File.WriteAllText(file, "import smtplib, socket, ssl, sys, base64\nport = int(sys.argv[1])\n" +
                                "ctx = ssl.create_default_context()\nctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n" + script);
        return Run.Process("/usr/bin/python3", [file, port.ToString()], timeoutMs: 60_000);
    }

    [Fact]
    public void Python_smtplib_starttls_login_and_starttls_twice()
    {
        var r = Python("""
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example', timeout=20)
s.ehlo()
assert s.has_extn('starttls') and not s.has_extn('auth'), s.esmtp_features
s.starttls(context=ctx)
s.ehlo()
assert not s.has_extn('starttls') and s.esmtp_features["auth"].strip() == "PLAIN LOGIN", s.esmtp_features
print(s.docmd('STARTTLS'))
s.user, s.password = 'alice', 'open sesame'
print(s.auth('LOGIN', s.auth_login, initial_response_ok=False))
refused = s.sendmail('s@x', ['a@other.com'], b'Subject: py\r\n\r\nh\xc3\xa9llo\r\n.dot\r\n')
assert refused == {}, refused
s.quit()
""", _port);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("(503, b'5.5.1 TLS already started (#5.5.1)')\n(235, b'2.7.0 authentication successful')\n");
        QueuedOnce("Subject: py\n\nh\u00c3\u00a9llo\n.dot\n", "Ta@other.com\0", "ESMTPSA");
    }

    [Fact]
    public void Commands_pipelined_behind_starttls_are_dropped_not_run_under_tls()
    {
        // CVE-2011-0411: a man in the middle appends a command to STARTTLS in the clear;
        // it must not be read as if the client had sent it inside TLS.
        var r = Python("""
c = socket.create_connection(('127.0.0.1', port), timeout=20)
f = c.makefile('rb')
f.readline()
c.sendall(b'EHLO x\r\n')
while not f.readline().startswith(b'250 '): pass
c.sendall(b'STARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<a@example.com>\r\n')
print(f.readline())
t = ctx.wrap_socket(c)
t.sendall(b'EHLO y\r\nRCPT TO:<a@example.com>\r\nQUIT\r\n')
out = b''
while True:
    b = t.recv(4096)
    if not b: break
    out += b
print([l for l in out.split(b'\r\n') if not l.startswith(b'250-')])
""", _port);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("b'220 2.0.0 ready to start TLS\\r\\n'\n" +
                          "[b'250 AUTH PLAIN LOGIN', b'503 5.5.1 MAIL first (#5.5.1)', b'221 2.0.0 mx.example', b'']\n");
        SmtpdLog.Should().Contain("dropped 45 bytes sent in the clear after STARTTLS");
    }

    [Fact]
    public void A_failed_handshake_closes_without_a_word()
    {
        var r = Python("""
c = socket.create_connection(('127.0.0.1', port), timeout=20)
c.recv(1000)
c.sendall(b'EHLO x\r\n')
f = c.makefile('rb')
while not f.readline().startswith(b'250 '): pass
c.sendall(b'STARTTLS\r\n')
print(f.readline())
c.sendall(b'this is not a TLS ClientHello at all\r\n\r\n')
rest = f.read()
print(not rest or rest[0] == 0x15)
""", _port);
        r.ExitCode.Should().Be(0, r.Err);
        // nothing more, or a TLS alert record (content type 21): never an SMTP reply
        r.Out.Should().Be("b'220 2.0.0 ready to start TLS\\r\\n'\nTrue\n");
        SmtpdLog.Should().Contain("TLS handshake failed");
    }

    [Fact]
    public void Submission_port_needs_auth_before_mail()
    {
        var r = Python("""
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example', timeout=20)
s.starttls(context=ctx)
s.ehlo()
print(s.docmd('MAIL', 'FROM:<s@x>'))
s.login('alice', 'open sesame')
refused = s.sendmail('s@x', ['a@other.com', 'b@example.com'], b'Subject: submitted\r\n\r\nbody\r\n')
assert refused == {}, refused
s.quit()
""", _submissionPort);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("(530, b'5.7.0 authentication required (#5.7.0)')\n");
        QueuedOnce("Subject: submitted\n\nbody\n", "Ta@other.com\0Tb@example.com\0", "ESMTPSA");
    }

    [Fact]
    public void Failed_auth_attempts_survive_starttls()
    {
        using var h = new SmtpdHome("example.com\n");
        SmtpdHome.WriteCertificate(h.Home.Control("servercert.pem"), _dir["cert2"]);
        h.Home.WriteControl("smtpauthtls", "0\n");
        var run = _dir["run2"];
        File.WriteAllText(run, $"#!/bin/sh\nexec {h.Home.Bin("qmail-smtpd")} mx.example {_dir["checkpassword"]} /bin/true 2>/dev/null\n");
        File.SetUnixFileMode(run, (UnixFileMode)0x1ED);
        var port = Serve("127.0.0.1:allow\n:deny\n", "plainauth", run);
        var r = Python("""
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example', timeout=20)
s.ehlo()
bad = base64.b64encode(b'\0alice\0guess').decode()
for i in range(3): print(s.docmd('AUTH', 'PLAIN ' + bad)[0])
s.starttls(context=ctx)
s.ehlo()
print(s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\0alice\0open sesame').decode()))
""", port);
        r.ExitCode.Should().Be(0, r.Err);
        r.Out.Should().Be("535\n535\n535\n(421, b'4.7.0 too many failed authentications, closing (#4.7.0)')\n");
    }

    public void Dispose()
    {
        foreach (var s in _servers)
        {
            try { s.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            s.WaitForExit(10_000);
            s.Dispose();
        }
        _dir.Dispose();
        _h.Dispose();
    }
}
