using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// The whole delivery side of a privileged install, nothing stood in for:
/// jsmail-start, -send, -todo, -clean, jsmail-lspawn + jsmail-local into a real
/// account's Maildir, jsmail-rspawn + jsmail-remote to smtp-sink on loopback
/// (control/smtproutes).
/// </summary>
public class RealSpawnerTests
{
    [Fact] // issue 5: a jsmail-queue queue with extensions and a plain qmail one give the same deliveries
    public void Extension_and_plain_messages_reach_the_same_mailbox_and_peer()
    {
        using var h = new SendHarness(privileged: true, testSpawners: false);
        using var user = new MailUser(h.Home.Bin("jsmail-maildirmake"));
        using var sink = new SmtpSink();
        h.Home.WriteControl("smtproutes", $"remote.example:127.0.0.1:{sink.Port}\n");
        h.Home.WriteControl("remoterecipients", "1\n"); // a transaction per recipient, as counted below (grouping: GroupedDeliveryFlowTests)
        h.Start();

        var plain = SendHarness.Envelope("s@x", $"{user.Name}@local.example", "r1@remote.example", "r2@remote.example");
        h.Queue(plain, "Subject: plain\n\nbody\n");
        h.Queue([.. plain, .. "X1\0MSIZE=10\0R2\0PNOTIFY=NEVER\0\0"u8.ToArray()], "Subject: ext\n\nbody\n");
        h.WaitForLog("end msg", 2, 90_000);

        h.CountLog(": success: ").Should().Be(6, h.Log);
        h.ShouldEmpty("mess", "info", "local", "remote", "todo", "intd", "ext"); // jsmail-clean removes the extension with the message

        var local = user.Messages();
        local.Select(m => Regex.Match(m, "^Subject: (.*)$", RegexOptions.Multiline).Groups[1].Value).Order().Should().Equal("ext", "plain");
        local.Should().AllSatisfy(m => m.Should().StartWith($"Return-Path: <s@x>\nDelivered-To: {user.Name}@local.example\n"));

        var remote = sink.Dump.Split("X-Client-Addr: ", StringSplitOptions.RemoveEmptyEntries).Select(t =>
            Regex.Match(t, "^X-Rcpt-Args: (.*)$", RegexOptions.Multiline).Groups[1].Value + " " +
            Regex.Match(t, "^Subject: (.*)$", RegexOptions.Multiline).Groups[1].Value);
        // smtp-sink offers DSN: the extension's NOTIFY reaches it (issue 7)
        remote.Order().Should().Equal("<r1@remote.example> ext", "<r1@remote.example> plain",
            "<r2@remote.example> NOTIFY=NEVER ext", "<r2@remote.example> plain");
    }
}

/// <summary>
/// Issue 7: envelope parameters from the queue to the peer, through the real
/// jsmail-todo (queue/rparam/), jsmail-send, jsmail-rspawn as qmailr and
/// jsmail-remote, in a privileged install.
/// </summary>
public class RealSpawnerParameterTests
{
    [Theory]
    [InlineData("jsmail-queue")]
    [InlineData("jsmail-smtpd")]
    public void Dsn_parameters_reach_a_peer_that_offers_DSN_and_the_rparam_file_goes_with_the_message(string via)
    {
        using var h = new SendHarness(privileged: true, testSpawners: false);
        using var peer = new ScriptedPeer("250-stub\r\n250 DSN", connections: 2);
        h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        h.Home.WriteControl("remoterecipients", "1\n"); // a transaction per recipient, as counted below (grouping: GroupedDeliveryFlowTests)
        h.Start();

        if (via == "jsmail-queue") // what jsmail-smtpd stores for the session below
            h.Queue([.. SendHarness.Envelope("a@s.test", "c@x.test", "b@x.test"),
                .. "X1\0MRET=HDRS\0MENVID=QQ1\0R1\0PNOTIFY=SUCCESS,FAILURE\0PORCPT=rfc822;b@x.test\0\0"u8.ToArray()]);
        else
        {
            var session = "EHLO client.test\r\nMAIL FROM:<a@s.test> RET=HDRS ENVID=QQ1\r\nRCPT TO:<c@x.test>\r\n" +
                          "RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.test\r\nDATA\r\nSubject: dsn\r\n\r\nbody\r\n.\r\nQUIT\r\n";
            var r = Run.Process(h.Home.Bin("qmail-smtpd"), [], Encoding.ASCII.GetBytes(session), new Dictionary<string, string?>
            {
                ["TCPREMOTEIP"] = "127.0.0.1", ["TCPLOCALIP"] = "127.0.0.1", ["TCPLOCALHOST"] = "mx.local.example",
                ["RELAYCLIENT"] = "", ["QMAILQUEUE"] = null, ["JSMAIL_COMPAT"] = null, ["DATABYTES"] = null, ["SMTPCHECK"] = null,
            }, timeoutMs: 30_000);
            r.Out.Should().MatchRegex(@"\r\n250[- ]DSN\r\n").And.MatchRegex(@"\r\n250 2\.0\.0 ok \d+ qp \d+\r\n", r.Out + r.Err);
        }
        h.WaitForLog("end msg", 1, 90_000);

        h.CountLog(": success: ").Should().Be(2, h.Log);
        h.ShouldEmpty("mess", "info", "local", "remote", "todo", "intd", "ext", "rparam");
        var received = peer.Received;
        received.Should().Contain("MAIL FROM:<a@s.test> RET=HDRS ENVID=QQ1\r\nRCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.test\r\nDATA\r\n");
        received.Should().Contain("MAIL FROM:<a@s.test> RET=HDRS ENVID=QQ1\r\nRCPT TO:<c@x.test>\r\nDATA\r\n", "a recipient without parameters gets none");
        received.Split("MAIL FROM:").Length.Should().Be(3, received);
    }
}
