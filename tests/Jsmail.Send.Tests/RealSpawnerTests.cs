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
        h.Start();

        var plain = SendHarness.Envelope("s@x", $"{user.Name}@local.example", "r1@remote.example", "r2@remote.example");
        h.Queue(plain, "Subject: plain\n\nbody\n");
        h.Queue([.. plain, .. "X1\0MSIZE=10\0R2\0PNOTIFY=NEVER\0\0"u8.ToArray()], "Subject: ext\n\nbody\n");
        h.WaitForLog("end msg", 2, 90_000);

        h.CountLog(": success: ").Should().Be(6, h.Log);
        h.Home.Entries("ext").Should().BeEmpty("jsmail-clean removes the extension with the message");
        foreach (var dir in new[] { "mess", "info", "local", "remote", "todo", "intd" }) h.Home.Entries(dir).Should().BeEmpty();

        var local = user.Messages();
        local.Select(m => Regex.Match(m, "^Subject: (.*)$", RegexOptions.Multiline).Groups[1].Value).Order().Should().Equal("ext", "plain");
        local.Should().AllSatisfy(m => m.Should().StartWith($"Return-Path: <s@x>\nDelivered-To: {user.Name}@local.example\n"));

        var remote = sink.Dump.Split("X-Client-Addr: ", StringSplitOptions.RemoveEmptyEntries).Select(t =>
            Regex.Match(t, "^X-Rcpt-Args: <(.*)>$", RegexOptions.Multiline).Groups[1].Value + " " +
            Regex.Match(t, "^Subject: (.*)$", RegexOptions.Multiline).Groups[1].Value);
        remote.Order().Should().Equal("r1@remote.example ext", "r1@remote.example plain", "r2@remote.example ext", "r2@remote.example plain");
    }
}
