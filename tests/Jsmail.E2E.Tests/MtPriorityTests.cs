using System.Diagnostics;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>
/// MT-PRIORITY (RFC 6710) end to end through the shipped plugin
/// (plugins/mt-priority.c, built with cc as an operator builds it): a real
/// SMTP client gives MT-PRIORITY=3 to jsmail-smtpd under tcpserver, the
/// queue keeps it, jsmail-send's remote delivery gives it to a next hop that
/// offers MT-PRIORITY, and not to one that does not.
/// </summary>
public sealed class MtPriorityTests : IDisposable
{
    private readonly TempDir _dir = new("jsmail-mt-priority");
    private readonly LocalUsers _users = new();
    private readonly List<Process> _peers = [];

    // A scripted next hop: EHLO offers the keywords given, every command line
    // is recorded, and each message is accepted; serves until killed.
    private const string Peer = """
        import socket, sys
        record, keywords = sys.argv[1], sys.argv[2:]
        srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4)
        open(record + '.port', 'w').write(str(srv.getsockname()[1]))
        while True:
            c, _ = srv.accept(); f = c.makefile('rb')
            c.sendall(b'220 peer ESMTP\r\n')
            data = False
            for line in f:
                if data:
                    if line == b'.\r\n': data = False; c.sendall(b'250 2.0.0 queued\r\n')
                    continue
                open(record, 'ab').write(line)
                verb = line[:4].upper()
                if verb == b'EHLO': c.sendall(('\r\n'.join(['250-peer'] + ['250-' + k for k in keywords[:-1]] + ['250 ' + (keywords[-1] if keywords else 'HELP')]) + '\r\n').encode())
                elif verb == b'DATA': data = True; c.sendall(b'354 go\r\n')
                elif verb == b'QUIT': c.sendall(b'221 bye\r\n'); break
                else: c.sendall(b'250 ok\r\n')
            c.close()
        """;

    /// <summary>A peer offering <paramref name="keywords"/>; its port and the file of the command lines it got.</summary>
    private (int Port, string Record) StartPeer(string name, params string[] keywords)
    {
        var record = _dir[name];
        var p = Run.Start("/usr/bin/python3", ["-c", Peer, record, .. keywords]);
        _peers.Add(p);
        Wait.Until(() => File.Exists(record + ".port") && File.ReadAllText(record + ".port").Length > 0, 30).Should().BeTrue("the peer listens");
        return (int.Parse(File.ReadAllText(record + ".port")), record);
    }

    private string BuildPlugin()
    {
        var path = _dir["mt-priority.so"];
        var r = Run.Process("cc", ["-shared", "-fPIC", "-O2", "-I", Path.Combine(Repo.Root, "include"), "-o", path,
            Path.Combine(Repo.Root, "plugins", "mt-priority.c")], timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
        return path;
    }

    [Fact]
    public void The_priority_reaches_a_next_hop_that_offers_it_and_no_other()
    {
        var offering = StartPeer("offering", "PIPELINING", "MT-PRIORITY MIXER");
        var plain = StartPeer("plain", "PIPELINING");
        using var mta = new SupervisedMta(offering.Port, []);
        mta.Home.WriteControl("smtproutes", $"{SupervisedMta.RemoteDomain}:127.0.0.1:{offering.Port}\nplain.test:127.0.0.1:{plain.Port}\n");
        mta.Home.WriteControl("rcpthosts", $"{SupervisedMta.LocalDomain}\n{SupervisedMta.RemoteDomain}\nplain.test\n");
        mta.Home.WriteControl("plugins", BuildPlugin() + " MIXER\n");
        mta.Start();

        const string client = """
            import smtplib, sys
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=60)
            code, msg = s.ehlo(); assert s.has_extn('mt-priority'), msg
            print(s.esmtp_features['mt-priority'])
            assert s.docmd('MAIL FROM:<a@client.example> MT-PRIORITY=12')[0] == 501
            for rcpt in sys.argv[2:]:
                s.rset()
                code, msg = s.mail('a@client.example', ['MT-PRIORITY=3']); assert code == 250, (code, msg)
                code, msg = s.rcpt(rcpt); assert code == 250, (code, msg)
                code, msg = s.data(b'Subject: urgent\r\n\r\nnow\r\n'); assert code == 250, (code, msg)
            s.quit()
            """;
        var r = Run.Process("/usr/bin/python3", ["-c", client, mta.SmtpPort.ToString(), "x@" + SupervisedMta.RemoteDomain, "y@plain.test"]);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        r.Out.Trim().Should().Be("MIXER", "the policy named in control/plugins is the keyword's argument");

        Wait.Until(() => File.Exists(offering.Record) && File.ReadAllText(offering.Record).Contains("QUIT") &&
                         File.Exists(plain.Record) && File.ReadAllText(plain.Record).Contains("QUIT"), 60).Should().BeTrue(mta.Log);
        File.ReadAllLines(offering.Record).Should().Contain(l => l.StartsWith("MAIL FROM:<a@client.example>") && l.EndsWith(" MT-PRIORITY=3"));
        File.ReadAllLines(plain.Record).Should().Contain(l => l.StartsWith("MAIL FROM:<a@client.example>"))
            .And.NotContain(l => l.Contains("MT-PRIORITY"), "a next hop that does not offer it is given none");
    }

    public void Dispose()
    {
        foreach (var p in _peers)
        {
            try { p.Kill(); p.WaitForExit(10_000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _users.Dispose();
        _dir.Dispose();
    }
}
