using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// Issue 7: jsmail-smtpd itself, under the real tcpserver on loopback with a
/// control/servercert.pem made by openssl, as jsmail-remote's peer over
/// STARTTLS. The message must land in that smtpd's queue byte for byte.
/// </summary>
public sealed class SmtpdPeerTests : IDisposable
{
    private static readonly Lazy<TestCertificates> s_certs = new(() => new TestCertificates());
    private static TestCertificates Certs => s_certs.Value;

    private readonly TestHome _sender = TestHome.Install();
    private readonly TestHome _receiver = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-smtpd-peer");
    private readonly Process _tcpserver;
    private readonly int _port;

    private const string Body = "From: a@b.test\nTo: c@x.test\nSubject: over tls\n\n.leading dot\n..two dots\n\u00e9t\u00e9 8-bit\nend\n";

    public SmtpdPeerTests()
    {
        _receiver.WriteControl("me", "mx.x.test\n");
        _receiver.WriteControl("rcpthosts", "x.test\n");
        var (cert, key) = ((string)Certs.Server("loopback")[0]!, (string)Certs.Server("loopback")[1]!);
        _receiver.WriteControl("servercert.pem", File.ReadAllText(cert) + File.ReadAllText(key));
        File.WriteAllText(_dir["run"], $"#!/bin/sh\nexec {_receiver.Bin("qmail-smtpd")} 2>>{_dir["stderr"]}\n");
        File.SetUnixFileMode(_dir["run"], (UnixFileMode)0x1ED);

        _port = Ports.Free();
        _tcpserver = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.x.test", "-c", "4", "127.0.0.1", _port.ToString(), _dir["run"]],
            env: new[] { "RELAYCLIENT", "QMAILQUEUE", "JSMAIL_COMPAT", "DATABYTES", "SMTPCHECK", "SUBMISSION" }.ToDictionary(n => n, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output);
        Ports.WaitForListener(_port, "tcpserver");
        _sender.WriteControl("smtproutes", $"x.test:127.0.0.1:{_port}\n");
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

    private string Remote(byte[]? message = null, string? mailParameters = null)
    {
        File.WriteAllBytes(_dir["msg"], message ?? Encoding.UTF8.GetBytes(Body));
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" \"$@\" <\"$MSG\"", _sender.Bin("qmail-remote"), "x.test", "a@b.test", "c@x.test"],
            env: new Dictionary<string, string?> { ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = null, ["JSMAIL_MAIL_PARAMETERS"] = mailParameters },
            timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    /// <summary>The receiver's queued messages: (todo envelope, mess file).</summary>
    private List<(string Envelope, byte[] Message)> Queued() =>
        _receiver.Entries("todo").Select(t => (
            Encoding.Latin1.GetString(_receiver.ReadQueueFile("todo/" + t)),
            _receiver.ReadQueueFile($"mess/{ulong.Parse(t) % 23}/{t}"))).ToList();

    [Theory]
    [InlineData("verify")]
    [InlineData("opportunistic")]
    public void Delivers_over_starttls_into_the_smtpds_queue_byte_for_byte(string rule)
    {
        _sender.WriteControl("tlsdestinations", rule == "verify" ? $"x.test:verify:{Certs.CaFile}\n" : "x.test:opportunistic\n");
        Remote().Should().MatchRegex(@"^r\|K127\.0\.0\.1 accepted message\.\nRemote host said: 250 2\.0\.0 ok \d+ qp \d+\n\|$");

        var (envelope, message) = Queued().Should().ContainSingle().Subject;
        envelope.Should().EndWith("\0Fa@b.test\0Tc@x.test\0");
        var text = Encoding.UTF8.GetString(message);
        var lines = text.Split('\n');
        lines[0].Should().MatchRegex(@"^Received: \(qmail \d+ invoked [^)]*\); ");
        lines[1].Should().StartWith("Received: from ");
        lines[2].Should().MatchRegex(@"^  by mx\.x\.test with ESMTPS \(TLSv1\.[23] TLS_[A-Z0-9_]+\); ", "jsmail-smtpd saw the session under TLS");
        string.Join('\n', lines[3..]).Should().Be(Body, "the message arrives byte for byte");
    }

    [Fact]
    public void Verify_against_the_wrong_ca_is_a_temporary_failure_and_nothing_is_queued()
    {
        _sender.WriteControl("tlsdestinations", $"x.test:verify:{Certs.OtherCaFile}\n");
        Remote().Should().StartWith("ZConnected to 127.0.0.1 but the TLS handshake failed: certificate does not verify (")
            .And.EndWith(". (#4.7.0)\n|");
        Queued().Should().BeEmpty();
        _receiver.Entries("mess").Should().BeEmpty();
    }

    /// <summary>What the receiver queued below its own two Received lines (the second one's "  by" line ends them).</summary>
    private static byte[] BelowReceived(byte[] queued)
    {
        var text = Encoding.Latin1.GetString(queued);
        text.Should().MatchRegex(@"^Received: \(qmail \d+ invoked [^)]*\); [^\n]*\nReceived: from [^\n]*\n  by mx\.x\.test with ESMTPS? ");
        var by = text.IndexOf("\n  by mx.x.test ", StringComparison.Ordinal);
        return queued[(text.IndexOf('\n', by + 1) + 1)..];
    }

    /// <summary>
    /// jsmail-smtpd offers CHUNKING, so the message goes by BDAT: bare dots and
    /// 8-bit bytes arrive byte for byte, and so does a last line without LF,
    /// which DATA cannot carry (qmail's 5.6.2): that it arrives shows BDAT carried it.
    /// </summary>
    [Fact]
    public void Bdat_carries_dots_8bit_bytes_and_a_partial_last_line_into_the_smtpds_queue_byte_for_byte()
    {
        var message = Encoding.UTF8.GetBytes(Body + ".\n..\nlast line without LF");
        Remote(message).Should().MatchRegex(@"^r\|K127\.0\.0\.1 accepted message\.\nRemote host said: 250 2\.0\.0 ok \d+ qp \d+\n\|$");
        var (envelope, queued) = Queued().Should().ContainSingle().Subject;
        envelope.Should().EndWith("\0Fa@b.test\0Tc@x.test\0");
        BelowReceived(queued).Should().Equal(message);
    }

    /// <summary>
    /// A BODY=BINARYMIME message as jsmail-smtpd queues one (its Received line
    /// ends in LF, the client's bytes in CRLF, NULs, lone CRs and bare LFs
    /// included): the receiver, which takes BINARYMIME only by BDAT, queues
    /// exactly those bytes, the header's LF line ends made CRLF.
    /// </summary>
    [Fact]
    public void A_binarymime_message_arrives_in_the_smtpds_queue_byte_for_byte()
    {
        var head = "Received: from relay.test\n  by first.test; 5 Dec 2026 06:00:00 +0000\n"u8.ToArray();
        byte[] rest = [.. "Subject: binary\r\nMIME-Version: 1.0\r\n\r\n"u8, 0, 1, 0xff, 0xfe, .. " bare\nLF, lone\rCR\r\n.\r\n"u8, 0x80];
        Remote([.. head, .. rest], "BODY=BINARYMIME").Should().MatchRegex(@"^r\|K127\.0\.0\.1 accepted message\.\n");
        var (_, queued) = Queued().Should().ContainSingle().Subject;
        BelowReceived(queued).Should().Equal([.. "Received: from relay.test\r\n  by first.test; 5 Dec 2026 06:00:00 +0000\r\n"u8, .. rest]);
    }
}
