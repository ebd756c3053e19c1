using System.Text;
using Jsmail.Common.Spawn;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// jsmail-rspawn alone, fed the bytes qmail-send or jsmail-send writes, with a
/// QMAILREMOTE that records its argv and answers per recipient: qmail's
/// protocol byte for byte unless jsmail-start offers grouped commands
/// (docs/spawn-protocol.md), and then one remote run per grouped command with
/// a result per recipient.
/// </summary>
public class GroupedSpawnerTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-rspawn-group");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private string Message(string id)
    {
        File.WriteAllText(_home.Queue($"mess/{ulong.Parse(id) % 23}/{id}"), "Subject: x\n\nbody\n");
        return $"{ulong.Parse(id) % 23}/{id}";
    }

    /// <summary>
    /// Runs jsmail-rspawn on <paramref name="commands"/>; its remote program logs
    /// its recipients (one line per run) and writes <paramref name="remoteOutput"/>.
    /// Returns everything jsmail-rspawn wrote on fd 1.
    /// </summary>
    private byte[] Spawn(byte[] commands, string remoteOutput, Dictionary<string, string?> env)
    {
        File.WriteAllText(_dir["remote"],
            "#!/bin/bash\n" +
            $"echo \"$*|${{{GroupedDelivery.OfferVariable}-unset}}\" >> {_dir["runs"]}\n" +
            $"printf '{remoteOutput}'\n");
        File.SetUnixFileMode(_dir["remote"], (UnixFileMode)0x1ED);
        File.WriteAllBytes(_dir["commands"], commands);
        env["PATH"] = _home.Path + "/bin:/usr/bin:/bin";
        env["QMAILREMOTE"] = _dir["remote"];
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env);
        r.ExitCode.Should().Be(0, r.Err);
        return r.Stdout;
    }

    private string[] Runs => File.Exists(_dir["runs"]) ? File.ReadAllLines(_dir["runs"]) : [];

    private static Dictionary<string, string?> Offer(string? compat = null) => new()
    {
        [GroupedDelivery.OfferVariable] = GroupedDelivery.OfferValue, ["JSMAIL_COMPAT"] = compat,
    };

    [Fact]
    public void Without_the_offer_it_is_qmail_rspawn_byte_for_byte()
    {
        var mess = Message("200");
        var grouped = GroupedDelivery.EncodeCommand(1, 200, 23, B("s@x"), [B("a@x.test"), B("b@x.test")]);
        var output = Spawn([.. DeliveryCommand.Encode(0, 200, 23, B("s@x"), B("a@x.test")), .. grouped],
            "r\\0K192.0.2.7 accepted message.\\n\\0", new() { [GroupedDelivery.OfferVariable] = null });

        // the slot byte alone; 0xFF read as a slot, as qmail-rspawn reads it (refused at once); the plain command delivered
        output.Should().Equal([120, .. B("\xFFZInternal error: delnum too big. (#4.3.5)\n\0"),
            .. B("\0K192.0.2.7 accepted message.\n\0")]);
        Runs.Should().Equal($"x.test s@x a@x.test|unset");
    }

    [Fact]
    public void Under_JSMAIL_COMPAT_qmail_the_offer_is_ignored()
    {
        var mess = Message("201");
        var output = Spawn(DeliveryCommand.Encode(3, 201, 23, B("s@x"), B("a@x.test")),
            "r\\0K192.0.2.7 accepted message.\\n\\0", Offer(compat: "qmail"));
        output.Should().Equal([120, 3, .. B("K192.0.2.7 accepted message.\n\0")]);
    }

    [Fact]
    public void With_the_offer_it_announces_in_its_first_write_and_still_takes_plain_commands()
    {
        Message("202");
        var output = Spawn(DeliveryCommand.Encode(3, 202, 23, B("s@x"), B("a@x.test")),
            "r\\0K192.0.2.7 accepted message.\\n\\0", Offer());
        output.Should().Equal([120, .. GroupedDelivery.Announcement(GroupedDelivery.MaxRecipients), 3, .. B("K192.0.2.7 accepted message.\n\0")]);
        Runs.Should().Equal(["x.test s@x a@x.test|unset"], "the offer is for the spawner, not for the remote program");
    }

    [Fact]
    public void A_grouped_command_is_one_remote_run_with_a_result_per_recipient_in_order()
    {
        Message("203");
        var command = GroupedDelivery.EncodeCommand(9, 203, 23, B("s@x"), [B("ok@x.test"), B("later@X.test"), B("bad@x.test")]);
        var output = Spawn(command,
            "r\\0s192.0.2.7 does not like recipient.\\nRemote host said: 450 later\\n\\0" +
            "h192.0.2.7 does not like recipient.\\nRemote host said: 550 no\\n\\0K192.0.2.7 accepted message.\\nRemote host said: 250 ok\\n\\0",
            Offer());
        Runs.Should().Equal("x.test s@x ok@x.test later@X.test bad@x.test|unset");
        var announcement = GroupedDelivery.Announcement(GroupedDelivery.MaxRecipients);
        Encoding.Latin1.GetString(output.AsSpan(1 + announcement.Length)).Should().Be(
            "\u0009K192.0.2.7 accepted message.\nRemote host said: 250 ok\n\0" +
            "\u0009Z192.0.2.7 does not like recipient.\nRemote host said: 450 later\n\0" +
            "\u0009D192.0.2.7 does not like recipient.\nRemote host said: 550 no\n\0");
    }

    [Fact]
    public void A_failure_of_the_whole_run_is_every_recipients_result()
    {
        Message("204");
        var command = GroupedDelivery.EncodeCommand(2, 204, 23, B("s@x"), [B("a@x.test"), B("b@x.test")]);
        var output = Spawn(command, "ZSorry, I wasn\\047t able to establish an SMTP connection. (#4.4.1)\\n\\0", Offer());
        var announcement = GroupedDelivery.Announcement(GroupedDelivery.MaxRecipients);
        var one = "\x02ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0";
        Encoding.Latin1.GetString(output.AsSpan(1 + announcement.Length)).Should().Be(one + one);
    }

    [Fact]
    public void Refusals_of_a_grouped_command_come_once_per_recipient()
    {
        Message("205");
        byte[] commands =
        [
            .. GroupedDelivery.EncodeCommand(1, 205, 23, B("s@x"), [B("a@x.test"), B("b@y.test")]),
            .. GroupedDelivery.EncodeCommand(2, 999, 23, B("s@x"), [B("a@x.test"), B("b@x.test")]), // no such message
        ];
        var output = Spawn(commands, "r\\0K192.0.2.7 accepted message.\\n\\0", Offer());
        var announcement = GroupedDelivery.Announcement(GroupedDelivery.MaxRecipients);
        var mixed = "\x01" + GroupedDelivery.MixedDomains + "\0";
        var cannot = "\x02" + SpawnerSide.CannotOpen + "\0";
        Encoding.Latin1.GetString(output.AsSpan(1 + announcement.Length)).Should().Be(mixed + mixed + cannot + cannot);
        Runs.Should().BeEmpty();
    }
}
