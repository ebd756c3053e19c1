using System.Diagnostics;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// REQUIRETLS (RFC 8689) on the sending side, with jsmail-smtpd under the real
/// tcpserver as the peer (its certificate from the test CA): a message with
/// REQUIRETLS goes only over verified TLS to a peer that offers REQUIRETLS,
/// and takes the flag along into that peer's queue; anything less returns it.
/// Per-process jsmail-remote (the parameters in its environment, as
/// jsmail-rspawn gives them) and jsmail-rspawn's pool (the parameters from
/// queue/rparam/) both. Also the <c>TLS-Required: No</c> header field.
/// </summary>
public sealed class RequireTlsTests : IDisposable
{
    private static readonly Lazy<TestCertificates> s_certs = new(() => new TestCertificates());
    private static TestCertificates Certs => s_certs.Value;

    private readonly TestHome _sender = TestHome.Install();
    private readonly TestHome _receiver = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-requiretls");
    private readonly Process _tcpserver;

    private const string Body = "From: a@b.test\nTo: c@x.test\nSubject: sealed\n\nfor TLS only\n";

    public RequireTlsTests()
    {
        _receiver.WriteControl("me", "mx.x.test\n");
        _receiver.WriteControl("rcpthosts", "x.test\n");
        var server = Certs.Server("loopback");
        _receiver.WriteControl("servercert.pem", File.ReadAllText((string)server[0]!) + File.ReadAllText((string)server[1]!));
        File.WriteAllText(_dir["run"], $"#!/bin/sh\nexec {_receiver.Bin("qmail-smtpd")} 2>>{_dir["stderr"]}\n");
        File.SetUnixFileMode(_dir["run"], (UnixFileMode)0x1ED);

        var port = Ports.Free();
        _tcpserver = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.x.test", "-c", "4", "127.0.0.1", port.ToString(), _dir["run"]],
            env: new[] { "RELAYCLIENT", "QMAILQUEUE", "JSMAIL_COMPAT", "DATABYTES", "SMTPCHECK", "SUBMISSION" }.ToDictionary(n => n, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output);
        Ports.WaitForListener(port, "tcpserver");
        _sender.WriteControl("smtproutes", $"x.test:127.0.0.1:{port}\n");
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{Certs.CaFile}\n");
    }

    public void Dispose()
    {
        try { if (!_tcpserver.HasExited) { _tcpserver.Kill(); _tcpserver.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _tcpserver.Dispose();
        _sender.Dispose();
        _receiver.Dispose();
        _dir.Dispose();
    }

    /// <summary>jsmail-remote with the MAIL parameters jsmail-rspawn would give; its report with NULs as '|'.</summary>
    private string Remote(string? mailParameters, string sender = "a@b.test", string body = Body, bool compat = false)
    {
        File.WriteAllBytes(_dir["msg"], Encoding.UTF8.GetBytes(body));
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _sender.Bin("qmail-remote"), "x.test", sender, "c@x.test"],
            env: new Dictionary<string, string?>
            {
                ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null, ["JSMAIL_MAIL_PARAMETERS"] = mailParameters,
            }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    /// <summary>The receiver's queued messages: (todo envelope, envelope extension or null).</summary>
    private List<(string Envelope, string? Extension)> Queued() =>
        _receiver.Entries("todo").Select(t => (
            Encoding.Latin1.GetString(_receiver.ReadQueueFile("todo/" + t)),
            File.Exists(_receiver.Queue($"ext/{ulong.Parse(t) % 23}/{t}"))
                ? Encoding.Latin1.GetString(_receiver.ReadQueueFile($"ext/{ulong.Parse(t) % 23}/{t}")) : null)).ToList();

    private const string Delivered = @"^r\|K127\.0\.0\.1 accepted message\.\nRemote host said: 250 2\.0\.0 ok \d+ qp \d+\n\|$";

    [Fact]
    public void Over_verified_tls_to_a_peer_offering_it_the_message_goes_with_its_flag()
    {
        Remote("REQUIRETLS").Should().MatchRegex(Delivered);
        var (envelope, extension) = Queued().Should().ContainSingle().Subject;
        envelope.Should().EndWith("\0Fa@b.test\0Tc@x.test\0");
        extension.Should().MatchRegex("^X1\0(MSIZE=[0-9]+\0)?MREQUIRETLS\0\0$", "the peer was given REQUIRETLS on MAIL and holds the next hop to it");
    }

    [Fact]
    public void A_peer_that_does_not_offer_it_gets_nothing_and_the_message_is_returned_with_5_7_30()
    {
        _receiver.WriteControl("smtpdisable", "REQUIRETLS\n");
        Remote("REQUIRETLS").Should().Be("DConnected to 127.0.0.1 but it does not support REQUIRETLS, which this message requires. (#5.7.30)\n|");
        _receiver.Entries("mess").Should().BeEmpty();
        // the same peer takes a message without REQUIRETLS: it was the flag that stopped it
        Remote(null).Should().MatchRegex(Delivered);
        (Queued().Should().ContainSingle().Which.Extension ?? "").Should().NotContain("REQUIRETLS");
    }

    [Theory]
    [InlineData("the wrong CA")]
    [InlineData("the system's roots")]
    public void A_certificate_that_does_not_verify_returns_the_message_with_5_7_10(string against)
    {
        _sender.WriteControl("tlsdestinations", against == "the wrong CA" ? $"x.test:verify:{Certs.OtherCaFile}\n" : "");
        Remote("REQUIRETLS").Should().StartWith("DConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (")
            .And.EndWith("; this message requires verified TLS (REQUIRETLS). (#5.7.10)\n|");
        _receiver.Entries("mess").Should().BeEmpty();
    }

    [Fact]
    public void An_unreadable_ca_file_is_a_temporary_failure_not_a_return()
    {
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{_dir["no-such-ca.pem"]}\n");
        Remote("REQUIRETLS").Should().Be($"ZConnected to 127.0.0.1 but the TLS handshake failed: no CA certificate could be read from {_dir["no-such-ca.pem"]}. (#4.7.0)\n|");
        _receiver.Entries("mess").Should().BeEmpty();
    }

    [Fact]
    public void A_destination_ruled_opportunistic_or_off_still_gets_verified_tls_for_it()
    {
        // the rule's CA is only for verify rules: opportunistic and off verify against the system's roots, which lack the test CA
        _sender.WriteControl("tlsdestinations", "x.test:off\n");
        Remote("REQUIRETLS").Should().StartWith("DConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (");
        _receiver.Entries("mess").Should().BeEmpty();
    }

    [Fact]
    public void A_peer_without_starttls_returns_the_message_with_5_7_10()
    {
        File.Delete(_receiver.Control("servercert.pem"));
        Remote("REQUIRETLS").Should().Be("DConnected to 127.0.0.1 but it does not offer STARTTLS, and this message requires TLS (REQUIRETLS). (#5.7.10)\n|");
        _receiver.Entries("mess").Should().BeEmpty();
    }

    [Fact]
    public void A_bounce_with_the_null_sender_is_not_held_to_it()
    {
        // RFC 8689 §4.2.1 asks REQUIRETLS handling only of a message with a non-empty return path
        File.Delete(_receiver.Control("servercert.pem"));
        _sender.WriteControl("tlsdestinations", "");
        Remote("REQUIRETLS", sender: "").Should().MatchRegex(Delivered);
        (Queued().Should().ContainSingle().Which.Extension ?? "").Should().NotContain("REQUIRETLS");
    }

    [Fact]
    public void A_bounce_of_a_requiretls_message_asks_it_of_a_peer_that_offers_it_under_tls()
    {
        // RFC 8689 §5: jsmail-send queues such a bounce with REQUIRETLS; it goes on wherever the peer can take it
        _sender.WriteControl("tlsdestinations", "");
        Remote("REQUIRETLS", sender: "").Should().MatchRegex(Delivered);
        var (envelope, extension) = Queued().Should().ContainSingle().Subject;
        envelope.Should().EndWith("\0F\0Tc@x.test\0");
        extension.Should().MatchRegex("^X1\0(MSIZE=[0-9]+\0)?MREQUIRETLS\0\0$");
        // the counter-proof: a bounce of any other message does not ask it
        Remote(null, sender: "").Should().MatchRegex(Delivered);
        Queued().Should().HaveCount(2).And.ContainSingle(q => (q.Extension ?? "").Contains("REQUIRETLS"));
    }

    [Fact]
    public void Under_qmail_compatibility_the_parameter_is_not_read()
    {
        File.Delete(_receiver.Control("servercert.pem"));
        Remote("REQUIRETLS", compat: true).Should().MatchRegex(Delivered, "qmail-remote's dialogue: HELO, no STARTTLS, no parameters");
        Queued().Should().ContainSingle().Which.Extension.Should().BeNull();
    }

    private const string OptionalBody = "From: a@b.test\nTLS-Required: No\nSubject: anyhow\n\nplease just deliver\n";

    [Fact]
    public void Tls_required_no_relaxes_a_verify_rule_to_opportunistic()
    {
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{Certs.OtherCaFile}\n");
        Remote(null, body: OptionalBody).Should().MatchRegex(Delivered, "the certificate is not checked for such a message");
        Remote(null).Should().StartWith("ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (",
            "a message without the header is held to the rule");
        Queued().Should().ContainSingle();
    }

    [Fact]
    public void Tls_required_no_is_ignored_for_a_message_with_requiretls_and_when_remotedisable_says_so()
    {
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{Certs.OtherCaFile}\n");
        Remote("REQUIRETLS", body: OptionalBody).Should().EndWith("(#5.7.10)\n|", "RFC 8689 §4.1: REQUIRETLS wins over the header");
        _sender.WriteControl("remotedisable", "TLS-REQUIRED\n");
        Remote(null, body: OptionalBody).Should().StartWith("ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (");
        _receiver.Entries("mess").Should().BeEmpty();
    }

    [Fact]
    public void Tls_required_no_still_uses_starttls_when_offered()
    {
        _sender.WriteControl("tlsdestinations", "x.test:require\n");
        Remote(null, body: OptionalBody).Should().MatchRegex(Delivered);
        Encoding.UTF8.GetString(_receiver.ReadQueueFile("mess/" + _receiver.Entries("mess").Single()))
            .Should().MatchRegex(@"\n  by mx\.x\.test with ESMTPS \(TLSv1\.[23] ", "opportunistic is still TLS when the peer offers it");
        File.Delete(_receiver.Control("servercert.pem"));
        Remote(null, body: OptionalBody).Should().MatchRegex(Delivered, "and plain when it does not, the require rule notwithstanding");
    }

    // The pooled path: jsmail-rspawn delivering in-process, the parameters from queue/rparam/.

    /// <param name="requireTls">an rparam/ file gives the delivery REQUIRETLS; false: no file, no parameters</param>
    private string QueuedMessage(string id, string text, bool requireTls = true)
    {
        var mess = $"{ulong.Parse(id) % 23}/{id}";
        File.WriteAllText(_sender.Queue("mess/" + mess), text);
        if (!requireTls) return mess;
        var f = new FileInfo(_sender.Queue("mess/" + mess));
        var identity = $"I{f.Length},{new DateTimeOffset(f.LastWriteTimeUtc).ToUnixTimeSeconds()}\0";
        File.WriteAllBytes(_sender.Queue("rparam/" + mess), Encoding.Latin1.GetBytes(identity + "Tc@x.test\0X1\0MREQUIRETLS\0\0"));
        return mess;
    }

    private string PooledRSpawn(params string[] messes)
    {
        var commands = messes.SelectMany((m, i) => (byte[])[(byte)i, .. Encoding.Latin1.GetBytes($"{m}\0a@b.test\0c@x.test\0")]).ToArray();
        File.WriteAllBytes(_dir["commands"], commands);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _sender.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?>
            {
                ["PATH"] = _sender.Path + "/bin:/usr/bin:/bin", ["JSMAIL_SPAWN_PROTOCOL"] = "jsmail1", ["QMAILREMOTE"] = null, ["JSMAIL_COMPAT"] = null,
            }, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0, r.Err);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    [Fact]
    public void The_pool_sends_it_over_verified_tls_with_its_flag_and_returns_it_from_a_peer_without()
    {
        var output = PooledRSpawn(QueuedMessage("700", Body), QueuedMessage("701", Body.Replace("sealed", "second")));
        output.Split("K127.0.0.1 accepted message.").Length.Should().Be(3, output);
        Queued().Should().HaveCount(2).And.OnlyContain(q => q.Extension != null && q.Extension.EndsWith("\0MREQUIRETLS\0\0"));

        _receiver.WriteControl("smtpdisable", "REQUIRETLS\n");
        PooledRSpawn(QueuedMessage("702", Body.Replace("sealed", "third")))
            .Should().EndWith("DConnected to 127.0.0.1 but it does not support REQUIRETLS, which this message requires. (#5.7.30)\n|");
        Queued().Should().HaveCount(2);
    }

    [Fact]
    public void The_pool_relaxes_a_verify_rule_for_tls_required_no_only()
    {
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{Certs.OtherCaFile}\n");
        PooledRSpawn(QueuedMessage("710", OptionalBody, requireTls: false)).Should().Contain("K127.0.0.1 accepted message.");
        PooledRSpawn(QueuedMessage("711", Body, requireTls: false))
            .Should().Contain("ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (");
        Queued().Should().ContainSingle();
    }
}
