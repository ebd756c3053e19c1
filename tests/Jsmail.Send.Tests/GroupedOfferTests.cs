using Jsmail.Common.Spawn;

namespace Jsmail.Send.Tests;

/// <summary>
/// jsmail-start offers grouped commands (docs/spawn-protocol.md) to the remote
/// spawner only when the qmail-send it becomes is jsmail's and compat mode is
/// off: the spawner in its place records the variable it was given.
/// </summary>
public class GroupedOfferTests
{
    [Theory]
    [InlineData("jsmail-send", GroupedDelivery.OfferValue)]
    [InlineData("compat", "unset")]
    [InlineData("a copy named qmail-send", "unset")]
    public void The_remote_spawner_is_offered_grouped_commands_only_when_its_reader_is_jsmail_send(string how, string offered)
    {
        using var h = new SendHarness();
        var seen = Path.Combine(h.Home.Path, "offer");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "testspawn.py"), h.Home.Bin("testspawn-remote"));
        File.Delete(h.Home.Bin("qmail-rspawn")); // a link to jsmail-rspawn: replaced, not written through
        File.WriteAllText(h.Home.Bin("qmail-rspawn"),
            $"#!/bin/sh\necho \"${{{GroupedDelivery.OfferVariable}-unset}}\" >{seen}.tmp && mv {seen}.tmp {seen}\n" +
            $"exec /usr/bin/python3 {h.Home.Bin("testspawn-remote")}\n");
        File.SetUnixFileMode(h.Home.Bin("qmail-rspawn"), (UnixFileMode)0x1ED);
        if (how == "compat") h.Environment["JSMAIL_COMPAT"] = "qmail";
        if (how.StartsWith("a copy"))
        {
            var jsmailSend = Path.Combine(h.Home.Path, "bin", File.ResolveLinkTarget(h.Home.Bin("qmail-send"), true)!.Name);
            File.Delete(h.Home.Bin("qmail-send"));
            File.Copy(jsmailSend, h.Home.Bin("qmail-send"));
        }
        h.Start();

        SendHarness.WaitUntil(() => File.Exists(seen), 30_000).Should().BeTrue(h.Log);
        File.ReadAllText(seen).Should().Be(offered + "\n");
        // and the flow works either way: a remote recipient through the spawner in rspawn's place
        h.Queue(SendHarness.Envelope("s@s.test", "a@x.test", "b@x.test"));
        h.WaitForLog("end msg", 1, 60_000);
        h.CountLog(": success: ").Should().Be(2, h.Log);
    }
}
