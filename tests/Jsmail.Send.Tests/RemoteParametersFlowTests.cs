using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// queue/rparam/ as the real jsmail-todo writes it and the real jsmail-send
/// removes it (docs/jsmail-send.md), with the test spawners of SendHarness.
/// </summary>
public class RemoteParametersFlowTests
{
    private const string Block = "X1\0MSIZE=10\0R2\0PNOTIFY=NEVER\0\0"; // NOTIFY for envelope recipient 2

    private static byte[] WithExtension(byte[] plain, string block) => plain.Concat(Encoding.Latin1.GetBytes(block)).ToArray();

    /// <summary>What jsmail-todo must have written for the message of mess/&lt;split/id&gt;.</summary>
    private static string Identity(SendHarness h, string messEntry)
    {
        var mess = new FileInfo(h.Home.Queue("mess/" + messEntry));
        return $"I{mess.Length},{new DateTimeOffset(mess.LastWriteTimeUtc).ToUnixTimeSeconds()}\0";
    }

    private static string Read(SendHarness h, string entry) => Encoding.Latin1.GetString(h.Home.ReadQueueFile("rparam/" + entry));

    [Fact]
    public void Todo_writes_the_remote_then_the_local_recipients_and_their_reindexed_parameters_before_the_channel_file_is_delivered()
    {
        using var h = new SendHarness();
        h.Start();
        // envelope order: r1 (remote), bob (local), deferz (remote, stays queued): remote/ holds r1, deferz
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "r1@remote.example", "bob@local.example", "deferz@remote.example"), Block));
        h.WaitForLog("deferral");
        var entry = h.Home.Entries("mess").Single();
        h.Home.Entries("rparam").Should().Equal(entry);
        Read(h, entry).Should().Be(Identity(h, entry) +
            "Tr1@remote.example\0Tdeferz@remote.example\0Tbob@local.example\0X1\0MSIZE=10\0R1\0PNOTIFY=NEVER\0\0");
        File.GetUnixFileMode(h.Home.Queue("rparam/" + entry)).Should().Be((UnixFileMode)0x1A0, "0640: group qmail reads it");
        foreach (var channel in new[] { "local", "remote" })
            Directory.GetFiles(h.Home.Queue(channel), "*.ext", SearchOption.AllDirectories).Should().BeEmpty("no sidecars any more");
    }

    [Fact]
    public void A_plain_message_gets_no_file_and_a_local_only_message_one_for_its_delivery_reports()
    {
        using var h = new SendHarness();
        h.Start();
        h.Queue(SendHarness.Envelope("s@x", "deferz@remote.example"));
        h.WaitForLog("deferral");
        h.Home.Entries("rparam").Should().BeEmpty();
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "bob@local.example", "deferz@local.example"), "X1\0MRET=HDRS\0R1\0PNOTIFY=NEVER\0\0"));
        h.WaitForLog("deferral", 2);
        h.Home.Entries("mess").Should().HaveCount(2);
        var entry = h.Home.Entries("rparam").Should().ContainSingle().Subject;
        Read(h, entry).Should().Be(Identity(h, entry) + "Tbob@local.example\0Tdeferz@local.example\0X1\0MRET=HDRS\0R1\0PNOTIFY=NEVER\0\0");
    }

    [Fact]
    public void Under_qmail_compatibility_todo_writes_no_file()
    {
        using var h = new SendHarness();
        h.Environment["JSMAIL_COMPAT"] = "qmail";
        h.Start();
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "r1@remote.example", "bob@local.example", "deferz@remote.example"), Block));
        h.WaitForLog("deferral");
        h.Home.Entries("remote").Should().ContainSingle();
        h.Home.Entries("rparam").Should().BeEmpty();
    }

    [Fact]
    public void Send_keeps_the_file_past_the_remote_channel_file_until_the_message_is_done()
    {
        using var h = new SendHarness();
        h.Start();
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "r1@remote.example", "deferz@local.example", "r2@remote.example"), Block));
        h.WaitForLog("deferral");
        // the remote channel is finished while the message still waits for its local recipient:
        // the file stays for the message's delivery reports
        SendHarness.WaitUntil(() => h.Home.Entries("remote").Count == 0).Should().BeTrue(h.Log);
        h.Home.Entries("rparam").Should().ContainSingle();
        h.Home.Entries("mess").Should().ContainSingle();
        // a message that is done takes its file with it
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "r3@remote.example", "bob@local.example"), "X1\0MSIZE=10\0\0"));
        SendHarness.WaitUntil(() => h.Home.Entries("mess").Count == 1 && h.Log.Contains("end msg")).Should().BeTrue(h.Log);
        h.Home.Entries("rparam").Should().ContainSingle();
    }

    [Fact]
    public void A_stale_file_under_a_reused_inode_is_replaced_or_removed_by_todo()
    {
        using var h = new SendHarness();
        // queued before jsmail-send runs: the ids are known before todo processes them
        h.Queue(SendHarness.Envelope("s@x", "deferz@remote.example"));
        h.Queue(WithExtension(SendHarness.Envelope("s@x", "r1@remote.example", "bob@local.example", "deferz@remote.example"), Block));
        var ids = h.Home.Entries("mess");
        ids.Should().HaveCount(2);
        var plainEntry = ids.Single(e => !File.Exists(h.Home.Queue("ext/" + e)));
        var extEntry = ids.Single(e => e != plainEntry);
        foreach (var e in ids) File.WriteAllText(h.Home.Queue("rparam/" + e), "I1,1\0Tdeferz@remote.example\0X1\0MRET=FULL\0\0");

        h.Start();
        h.WaitForLog("deferral", 2);
        h.Home.Entries("rparam").Should().Equal(extEntry);
        Read(h, extEntry).Should().Be(Identity(h, extEntry) +
            "Tr1@remote.example\0Tdeferz@remote.example\0Tbob@local.example\0X1\0MSIZE=10\0R1\0PNOTIFY=NEVER\0\0");
    }
}
